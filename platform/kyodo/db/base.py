"""Declarative base, column types and the tenancy mixins.

Every tenant-owned table carries `tenant_id` in its primary key, so foreign keys between tenant
tables include it too (a row can never point at another tenant's row), and the table can later
be distributed by tenant.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    MetaData,
    String,
    TypeDecorator,
    Uuid,
    or_,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in UTC on every backend (SQLite forgets the offset on its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        int: BigInteger(),  # yen amounts reach trillions; int32 would overflow at ¥2.1bn
        datetime: UTCDateTime(),
        uuid.UUID: Uuid(),
        dict[str, Any]: JSON(),
        list[int]: JSON(),
        list[dict[str, Any]]: JSON(),
    }


class HasTenant:
    @declared_attr
    def tenant_id(cls) -> Mapped[uuid.UUID]:
        # First in the primary key: (tenant_id, id), the shape a tenant-sharded table needs.
        return mapped_column(
            ForeignKey("organizations.id", ondelete="RESTRICT"),
            primary_key=True,
            index=True,
            sort_order=-10,
        )

    @classmethod
    def visible_to(cls, scope: Any) -> Any:
        """The ORM twin of the table's RLS policy: which rows this scope may see."""
        return cls.tenant_id == scope.tenant_id


class TenantOwned(HasTenant):
    """Rows visible only inside their own organization (RLS policy: tenant_id = app.tenant_id)."""


class PersonVisible(HasTenant):
    """Rows of an organization that the person they concern may also see from anywhere
    (their own memberships and notifications). RLS: tenant_id = app.tenant_id OR
    person_id = app.person_id."""

    # May the person also change these rows from another organization (mark a notification
    # read)? Never for memberships or role grants. The twin of rls.enable(own_updates=True).
    own_updates: ClassVar[bool] = False

    @declared_attr
    def person_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(ForeignKey("people.id"), index=True)

    @classmethod
    def visible_to(cls, scope: Any) -> Any:
        return or_(cls.tenant_id == scope.tenant_id, cls.person_id == scope.person_id)


class InviteeVisible(HasTenant):
    """Invitations: visible in their organization and to the person whose verified e-mail they
    name, who claims them at sign-in. RLS: tenant_id = app.tenant_id OR email = app.person_email."""

    @declared_attr
    def email(cls) -> Mapped[str]:
        return mapped_column(String(320), index=True)  # stored lower-cased

    @classmethod
    def visible_to(cls, scope: Any) -> Any:
        return or_(cls.tenant_id == scope.tenant_id, cls.email == (scope.email or "").lower())


class SharedByRule(HasTenant):
    """Rows of an organization that others may *read* under a rule the model states, such as a
    published procurement need or a bid after opening. Writes stay inside the organization.

    `visible_to(scope)` is the rule for the ORM layer; the table's migration writes the same rule
    as its RLS read policy (`rls.enable(table, read=...)`)."""

    @classmethod
    def visible_to(cls, scope: Any) -> Any:
        raise NotImplementedError(f"{cls.__name__} must state who may read its rows")
