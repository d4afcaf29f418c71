"""The signed-in person, their memberships, and the organization a request acts in.

Pages and the API address organizations by slug. A person who is not a member of the
organization in the URL gets 404 (the same answer as for an organization that does not exist),
so URLs reveal nothing about who else uses Kyodo.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from litestar import Request
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from sqlalchemy import select

from kyodo.db import Database, Scope
from kyodo.models import Membership, Organization, Person, RoleGrant
from kyodo.web.i18n import _

SESSION_PERSON = "person_id"


@dataclass(frozen=True)
class OrgMembership:
    org: Organization
    roles: frozenset[str]


@dataclass(frozen=True)
class Viewer:
    person: Person
    memberships: tuple[OrgMembership, ...] = field(default_factory=tuple)

    @property
    def scope(self) -> Scope:
        return Scope(person_id=self.person.id, email=self._verified_email())

    def _verified_email(self) -> str | None:
        return (
            self.person.email.lower() if self.person.email and self.person.email_verified else None
        )

    def membership(self, slug: str) -> OrgMembership | None:
        return next((m for m in self.memberships if m.org.slug == slug), None)


@dataclass(frozen=True)
class OrgContext:
    """A request acting inside one organization as one of its members."""

    viewer: Viewer
    org: Organization
    roles: frozenset[str]

    @property
    def person(self) -> Person:
        return self.viewer.person

    @property
    def scope(self) -> Scope:
        return Scope(
            tenant_id=self.org.id,
            tenant_kind=self.org.kind,
            person_id=self.person.id,
            email=self.viewer.scope.email,
        )

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def require(self, *roles: str) -> None:
        """403 unless the person holds one of the roles here."""
        if not self.has(*roles):
            raise PermissionDeniedException(_("You do not have permission to do this."))


async def load_viewer(db: Database, person_id: uuid.UUID) -> Viewer | None:
    async with db.session(Scope(person_id=person_id)) as session:
        person = await session.get(Person, person_id)
        if person is None:
            return None
        rows = await session.execute(
            select(Organization, RoleGrant.role)
            .join(Membership, Membership.tenant_id == Organization.id)
            .outerjoin(
                RoleGrant,
                (RoleGrant.tenant_id == Membership.tenant_id)
                & (RoleGrant.membership_id == Membership.id),
            )
            .where(Membership.person_id == person_id)
            .order_by(Organization.kind, Organization.slug)
        )
        by_org: dict[uuid.UUID, tuple[Organization, set[str]]] = {}
        for org, role in rows:
            entry = by_org.setdefault(org.id, (org, set()))
            if role:
                entry[1].add(role)
    memberships = tuple(OrgMembership(org, frozenset(roles)) for org, roles in by_org.values())
    return Viewer(person=person, memberships=memberships)


async def provide_viewer(request: Request) -> Viewer:
    """The signed-in person, or 401 (turned into a sign-in redirect for pages)."""
    viewer = request.scope.get("kyodo_viewer")
    if viewer is None:
        raw = request.session.get(SESSION_PERSON) if request.session else None
        if raw:
            viewer = await load_viewer(request.app.state.db, uuid.UUID(raw))
        if viewer is None:
            raise NotAuthorizedException(_("Please sign in."))
        request.scope["kyodo_viewer"] = viewer
    return viewer


async def provide_org(request: Request, org: FromPath[str]) -> OrgContext:
    viewer = await provide_viewer(request)
    membership = viewer.membership(org)
    if membership is None:
        raise NotFoundException(_("Organization not found."))
    return OrgContext(viewer=viewer, org=membership.org, roles=membership.roles)
