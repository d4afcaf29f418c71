"""Membership rules: who may join, invite, grant and revoke. No HTTP here.

Every function that changes something takes the caller's session (one transaction in one
organization's scope) and writes its audit event in that same transaction; only
create_organization, which acts in two organizations (the second through the kernel's explicit
operator scope, `acting_as`), opens its own. Queries always name the organization explicitly:
memberships and role grants are also visible to the person they concern, so the scope alone
would let an admin see their own rows of other organizations.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kyodo import audit
from kyodo.db import Database, Scope, acting_as, utcnow
from kyodo.errors import Checks, Conflict, InvalidInput, NotFound
from kyodo.jobs import enqueue
from kyodo.models import Invitation, Membership, Organization, Person, RoleGrant
from kyodo.roles import ROLES, grantable
from kyodo.web.i18n import _
from tenants.tasks import INVITATION_EMAIL

EMAIL_MAX = 320
NAME_MAX = 200
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_VENDOR_SLUG = re.compile(r"^[a-z0-9-]{2,40}$")
# Kinds an operator may create; a second operator would hold the operator's powers.
CREATABLE_KINDS = ("municipality", "prefecture", "vendor")


@dataclass(frozen=True)
class Member:
    id: uuid.UUID  # the membership id
    person_id: uuid.UUID
    display_name: str
    email: str | None
    roles: tuple[str, ...]
    joined_at: datetime


# -- input rules ---------------------------------------------------------------------------


def normalize_email(value: str, field: str = "email") -> str:
    email = value.strip().lower()
    if not email:
        raise InvalidInput({field: _("This field is required.")})
    if len(email) > EMAIL_MAX or not _EMAIL.match(email):
        raise InvalidInput({field: _("Enter an e-mail address like name@example.jp.")})
    return email


def check_role(kind: str, role: str, field: str = "role") -> str:
    if role not in ROLES:
        raise InvalidInput({field: _("Unknown role.")})
    if role not in {r.name for r in grantable(kind)}:
        raise InvalidInput({field: _("This role cannot be granted in this organization.")})
    return role


def check_roles(kind: str, roles: Iterable[str], field: str = "roles") -> list[str]:
    chosen = list(dict.fromkeys(roles))  # keep order, drop repeats
    if not chosen:
        raise InvalidInput({field: _("Choose at least one role.")})
    for role in chosen:
        check_role(kind, role, field)
    return chosen


def lg_code_is_valid(code: str) -> bool:
    """A 6-digit local-government code (JIS X 0401/0402): five digits and a check digit."""
    if not re.fullmatch(r"\d{6}", code):
        return False
    total = sum(int(d) * w for d, w in zip(code[:5], (6, 5, 4, 3, 2), strict=True))
    return int(code[5]) == (11 - total % 11) % 10


def check_slug(kind: str, slug: str) -> str:
    slug = slug.strip()
    if kind in ("municipality", "prefecture"):
        if not lg_code_is_valid(slug):
            raise InvalidInput({"slug": _("Enter the 6-digit local-government code, e.g. 131016.")})
    elif not _VENDOR_SLUG.match(slug) or slug.isdigit() or slug.strip("-") != slug:
        # All-digit names would look like a municipality's code.
        raise InvalidInput(
            {
                "slug": _(
                    "Use 2 to 40 lowercase letters, digits and hyphens, with at least one letter."
                )
            }
        )
    return slug


def check_name(value: str, field: str) -> str:
    name = value.strip()
    if not name:
        raise InvalidInput({field: _("This field is required.")})
    if len(name) > NAME_MAX:
        raise InvalidInput({field: _("Must be at most {n} characters.").format(n=NAME_MAX)})
    return name


# -- reading -------------------------------------------------------------------------------


def _tenant(session: AsyncSession) -> uuid.UUID:
    scope: Scope = session.info["scope"]
    if scope.tenant_id is None:
        raise ValueError("this needs an organization's scope")
    return scope.tenant_id


async def list_members(session: AsyncSession, member_id: uuid.UUID | None = None) -> list[Member]:
    """The organization's members with their roles (or just the one with `member_id`)."""
    tenant_id = _tenant(session)
    members = (
        select(Membership, Person)
        .join(Person, Person.id == Membership.person_id)
        .where(Membership.tenant_id == tenant_id)
        .order_by(Person.display_name, Person.email)
    )
    grants = (
        select(RoleGrant.membership_id, RoleGrant.role)
        .where(RoleGrant.tenant_id == tenant_id)
        .order_by(RoleGrant.role)
    )
    if member_id is not None:
        members = members.where(Membership.id == member_id)
        grants = grants.where(RoleGrant.membership_id == member_id)
    roles: dict[uuid.UUID, list[str]] = {}
    for membership_id, role in await session.execute(grants):
        roles.setdefault(membership_id, []).append(role)
    return [
        Member(
            id=m.id,
            person_id=p.id,
            display_name=p.display_name,
            email=p.email,
            roles=tuple(roles.get(m.id, ())),
            joined_at=m.created_at,
        )
        for m, p in await session.execute(members)
    ]


async def list_open_invitations(session: AsyncSession) -> list[Invitation]:
    return list(
        await session.scalars(
            select(Invitation)
            .where(
                Invitation.tenant_id == _tenant(session),
                Invitation.claimed_at.is_(None),
                Invitation.revoked_at.is_(None),
            )
            .order_by(Invitation.created_at.desc())
        )
    )


async def get_member(session: AsyncSession, member_id: uuid.UUID) -> Member:
    found = await list_members(session, member_id)
    if not found:
        raise NotFound
    return found[0]


# -- changing ------------------------------------------------------------------------------


async def invite(
    session: AsyncSession, org: Organization, email: str, roles: Iterable[str]
) -> Invitation:
    """Invite an e-mail address with roles; claimed when that verified address signs in."""
    tenant_id = _tenant(session)
    check = Checks()
    email = check(normalize_email, email)
    chosen = check(check_roles, org.kind, roles)
    check.raise_any()
    already = await session.scalar(
        select(Membership.id)
        .join(Person, Person.id == Membership.person_id)
        .where(
            Membership.tenant_id == tenant_id,
            Person.email == email,
            Person.email_verified.is_(True),
        )
    )
    if already:
        raise InvalidInput({"email": _("This person is already a member.")})
    pending = await session.scalar(
        select(Invitation.id).where(
            Invitation.tenant_id == tenant_id,
            Invitation.email == email,
            Invitation.claimed_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
    )
    if pending:
        raise InvalidInput({"email": _("An invitation for this e-mail address is already open.")})
    scope: Scope = session.info["scope"]
    invitation = Invitation(
        tenant_id=tenant_id, email=email, roles=" ".join(chosen), invited_by=scope.person_id
    )
    session.add(invitation)
    await session.flush()
    await audit.record(
        session, "invitation.created", "invitation", invitation.id, f"{email} {' '.join(chosen)}"
    )
    enqueue(session, INVITATION_EMAIL, invitation_id=invitation.id)
    return invitation


async def revoke_invitation(session: AsyncSession, invitation_id: uuid.UUID) -> Invitation:
    invitation = await session.scalar(
        select(Invitation)
        .where(
            Invitation.tenant_id == _tenant(session),
            Invitation.id == invitation_id,
            Invitation.claimed_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .with_for_update()
    )
    if invitation is None:
        raise NotFound
    invitation.revoked_at = utcnow()
    await audit.record(session, "invitation.revoked", "invitation", invitation.id, invitation.email)
    return invitation


async def _membership(session: AsyncSession, member_id: uuid.UUID) -> Membership:
    membership = await session.scalar(
        select(Membership).where(
            Membership.tenant_id == _tenant(session), Membership.id == member_id
        )
    )
    if membership is None:
        raise NotFound
    return membership


async def _lock_organization(session: AsyncSession) -> None:
    """Serialise role changes per organization (PostgreSQL), so two admins removing each
    other's admin role at once cannot both pass the last-admin check."""
    await session.execute(
        select(Organization.id).where(Organization.id == _tenant(session)).with_for_update()
    )


async def grant(
    session: AsyncSession, org: Organization, member_id: uuid.UUID, role: str
) -> Member:
    check_role(org.kind, role)
    await _lock_organization(session)
    membership = await _membership(session, member_id)
    scope: Scope = session.info["scope"]
    if await grant_role(session, membership, role, granted_by=scope.person_id):
        await audit.record(session, "role.granted", "membership", membership.id, role)
    return await get_member(session, member_id)


async def revoke(session: AsyncSession, member_id: uuid.UUID, role: str) -> Member:
    await _lock_organization(session)
    membership = await _membership(session, member_id)
    held = await session.scalar(
        select(RoleGrant).where(
            RoleGrant.tenant_id == membership.tenant_id,
            RoleGrant.membership_id == membership.id,
            RoleGrant.role == role,
        )
    )
    if held is None:
        raise NotFound
    if role == "admin" and await _admin_count(session) <= 1:
        raise Conflict(
            _(
                "This is the organization's last admin role. Grant admin to someone else"
                " before removing it."
            )
        )
    await session.delete(held)
    await session.flush()
    await audit.record(session, "role.revoked", "membership", membership.id, role)
    return await get_member(session, member_id)


async def _admin_count(session: AsyncSession) -> int:
    return await session.scalar(
        select(func.count())
        .select_from(RoleGrant)
        .where(RoleGrant.tenant_id == _tenant(session), RoleGrant.role == "admin")
    )


# -- the operator --------------------------------------------------------------------------


async def list_organizations(session: AsyncSession) -> list[Organization]:
    return list(await session.scalars(select(Organization).order_by(Organization.slug)))


async def create_organization(
    db: Database,
    operator: Scope,
    *,
    slug: str,
    kind: str,
    name_ja: str,
    name_en: str,
    admin_email: str,
) -> tuple[Organization, Invitation]:
    """Create an organization and invite its first admin, as the operator.

    The invitation is written inside the new organization, which the operator is not a member
    of: that is the one deliberate cross-tenant write here, done in an explicit operator scope
    (`operator_id` set, so the audit names the operator). Both organizations' audit chains record
    it, and everything commits or rolls back together.
    """
    check = Checks()
    kind = check(_check_kind, kind)
    slug = check(check_slug, kind, slug) if kind else ""  # the slug rule depends on the kind
    name_ja = check(check_name, name_ja, "name_ja")
    name_en = check(check_name, name_en, "name_en")
    admin_email = check(normalize_email, admin_email, "admin_email")
    check.raise_any()

    try:
        async with db.session(operator) as session:
            if await session.scalar(select(Organization.id).where(Organization.slug == slug)):
                raise InvalidInput({"slug": _("This identifier is already in use.")})
            org = Organization(slug=slug, kind=kind, name_ja=name_ja, name_en=name_en)
            session.add(org)
            await session.flush()
            await audit.record(
                session,
                "organization.created",
                "organization",
                org.id,
                f"{slug} {kind} first admin {admin_email}",
            )
            inside = Scope(
                tenant_id=org.id,
                tenant_kind=org.kind,
                person_id=operator.person_id,
                operator_id=operator.person_id,
            )
            async with acting_as(session, inside):
                await audit.record(
                    session,
                    "organization.created",
                    "organization",
                    org.id,
                    f"by the operator ({operator.tenant_id})",
                )
                invitation = await invite(session, org, admin_email, ["admin"])
    except IntegrityError as exc:
        # The unique slug, taken by another operator between our check and our insert.
        raise InvalidInput({"slug": _("This identifier is already in use.")}) from exc
    return org, invitation


def _check_kind(kind: str) -> str:
    if kind not in CREATABLE_KINDS:
        raise InvalidInput({"kind": _("Choose one of the listed values.")})
    return kind


# -- sign-in -------------------------------------------------------------------------------


async def claim_invitations(db: Database, person: Person) -> None:
    """At sign-in, turn open invitations for the person's verified e-mail into memberships."""
    if not (person.email and person.email_verified):
        return
    email = person.email.lower()
    async with db.session(Scope(person_id=person.id, email=email)) as session:
        open_invites = list(
            await session.execute(
                select(Invitation.tenant_id, Invitation.id).where(
                    Invitation.email == email,
                    Invitation.claimed_at.is_(None),
                    Invitation.revoked_at.is_(None),
                )
            )
        )
    for tenant_id, invitation_id in open_invites:
        scope = Scope(tenant_id=tenant_id, person_id=person.id, email=email)
        async with db.session(scope) as session:
            # Locked, so two sign-ins at once claim it once.
            invite = await session.scalar(
                select(Invitation)
                .where(Invitation.tenant_id == tenant_id, Invitation.id == invitation_id)
                .with_for_update()
            )
            if invite is None or invite.claimed_at or invite.revoked_at:
                continue  # claimed or revoked meanwhile
            membership = await ensure_membership(session, person.id)
            for role in invite.roles.split():
                await grant_role(session, membership, role, granted_by=invite.invited_by)
            invite.claimed_at, invite.claimed_by = utcnow(), person.id
            await audit.record(
                session, "invitation.claimed", "invitation", invite.id, f"{email} {invite.roles}"
            )


async def ensure_membership(session: AsyncSession, person_id: uuid.UUID) -> Membership:
    tenant_id = _tenant(session)
    membership = await session.scalar(
        select(Membership).where(
            Membership.tenant_id == tenant_id, Membership.person_id == person_id
        )
    )
    if membership is None:
        membership = Membership(tenant_id=tenant_id, person_id=person_id)
        session.add(membership)
        await session.flush()
    return membership


async def grant_role(
    session: AsyncSession, membership: Membership, role: str, granted_by: uuid.UUID | None = None
) -> RoleGrant | None:
    """Add a role to a membership; None when it is already held."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    existing = await session.scalar(
        select(RoleGrant).where(
            RoleGrant.tenant_id == membership.tenant_id,
            RoleGrant.membership_id == membership.id,
            RoleGrant.role == role,
        )
    )
    if existing:
        return None
    role_grant = RoleGrant(
        tenant_id=membership.tenant_id,
        membership_id=membership.id,
        person_id=membership.person_id,
        role=role,
        granted_by=granted_by,
    )
    session.add(role_grant)
    await session.flush()
    return role_grant
