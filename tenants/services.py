"""Membership rules: who may join, invite, grant and revoke. No HTTP here."""

from __future__ import annotations

from sqlalchemy import select

from kyodo import audit
from kyodo.db import Database, Scope, utcnow
from kyodo.models import Invitation, Membership, Person, RoleGrant
from kyodo.roles import ROLES


async def claim_invitations(db: Database, person: Person) -> None:
    """At sign-in, turn open invitations for the person's verified e-mail into memberships."""
    if not (person.email and person.email_verified):
        return
    email = person.email.lower()
    async with db.session(Scope(person_id=person.id, email=email)) as session:
        open_invites = list(
            await session.scalars(
                select(Invitation).where(
                    Invitation.email == email,
                    Invitation.claimed_at.is_(None),
                    Invitation.revoked_at.is_(None),
                )
            )
        )
    for invite in open_invites:
        scope = Scope(tenant_id=invite.tenant_id, person_id=person.id, email=email)
        async with db.session(scope) as session:
            invite = await session.get(Invitation, (invite.tenant_id, invite.id))
            if invite is None or invite.claimed_at or invite.revoked_at:
                continue  # claimed or revoked meanwhile
            membership = await ensure_membership(session, person.id)
            for role in invite.roles.split():
                await grant_role(session, membership, role, granted_by=invite.invited_by)
            invite.claimed_at, invite.claimed_by = utcnow(), person.id
            await audit.record(session, "invitation.claimed", "invitation", invite.id, email)


async def ensure_membership(session, person_id) -> Membership:
    scope: Scope = session.info["scope"]
    membership = await session.scalar(
        select(Membership).where(
            Membership.tenant_id == scope.tenant_id, Membership.person_id == person_id
        )
    )
    if membership is None:
        membership = Membership(tenant_id=scope.tenant_id, person_id=person_id)
        session.add(membership)
        await session.flush()
    return membership


async def grant_role(
    session, membership: Membership, role: str, granted_by=None
) -> RoleGrant | None:
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
    grant = RoleGrant(
        tenant_id=membership.tenant_id,
        membership_id=membership.id,
        person_id=membership.person_id,
        role=role,
        granted_by=granted_by,
    )
    session.add(grant)
    await session.flush()
    return grant
