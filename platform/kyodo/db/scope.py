"""Who is acting, and inside which organization, for one unit of work."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class Scope:
    tenant_id: uuid.UUID | None = None
    tenant_kind: str | None = None  # the organization's kind; rules on shared rows read it
    person_id: uuid.UUID | None = None
    email: str | None = None
    # Set only by the explicit, audited operator paths that act inside another organization.
    operator_id: uuid.UUID | None = None

    @classmethod
    def anonymous(cls) -> Scope:
        return cls()

    @classmethod
    def system(cls, tenant_id: uuid.UUID | None = None) -> Scope:
        """Jobs and start-up work: no person, optionally one organization."""
        return cls(tenant_id=tenant_id)
