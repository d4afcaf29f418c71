"""Database: engine, tenant scope (RLS settings + ORM criteria), models' base."""

from kyodo.db.base import (
    Base,
    InviteeVisible,
    PersonVisible,
    SharedByRule,
    TenantOwned,
    UTCDateTime,
    new_id,
    utcnow,
)
from kyodo.db.scope import Scope
from kyodo.db.session import Database, acting_as

__all__ = [
    "Base",
    "Database",
    "InviteeVisible",
    "PersonVisible",
    "Scope",
    "SharedByRule",
    "TenantOwned",
    "UTCDateTime",
    "acting_as",
    "new_id",
    "utcnow",
]
