"""Who is acting: a member of one organization with roles, or the system (deadlines)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from kyodo.db import Scope
from kyodo.errors import Forbidden, NotFound
from kyodo.models import Organization
from kyodo.web.i18n import _


@dataclass(frozen=True)
class Actor:
    org: Organization
    person_id: uuid.UUID | None
    roles: frozenset[str]

    @classmethod
    def of(cls, ctx) -> Actor:
        """From a request's OrgContext."""
        return cls(org=ctx.org, person_id=ctx.person.id, roles=ctx.roles)

    @property
    def scope(self) -> Scope:
        return Scope(tenant_id=self.org.id, tenant_kind=self.org.kind, person_id=self.person_id)

    def acting_in(self, org: Organization) -> Scope:
        """The explicit operator scope: the operator acting inside another organization
        (e.g. marking a municipality's need as tendered). Audited in both organizations."""
        return Scope(
            tenant_id=org.id,
            tenant_kind=org.kind,
            person_id=self.person_id,
            operator_id=self.person_id,
        )

    def require(self, *roles: str, kinds: tuple[str, ...] = ()) -> None:
        if kinds and self.org.kind not in kinds:
            # Not a permission question: this kind of organization has no such thing at all
            # (a municipality has no bids), so the answer is the same 404 as another's id.
            raise NotFound
        if not self.roles.intersection(roles):
            raise Forbidden(_("You do not have permission to do this."))
