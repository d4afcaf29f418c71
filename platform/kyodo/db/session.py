"""Engine and unit of work.

Isolation has two layers. On PostgreSQL every transaction starts by setting `app.tenant_id`,
`app.person_id` and `app.person_email` (transaction-local), which the row-level-security policies
read. On every backend the ORM adds the same criteria to each query, and refuses to write a
tenant row into another organization. SQLite, the first-run default, has only the second layer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, with_loader_criteria

from kyodo.db.base import Base, HasTenant, PersonVisible, SharedByRule
from kyodo.db.scope import Scope


class CrossTenantWrite(PermissionError):
    """Raised when code tries to write a row into an organization outside its scope."""


class Database:
    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = url
        self.is_postgres = url.startswith("postgresql")
        if not self.is_postgres:
            engine_options.setdefault("connect_args", {"timeout": 30})
        else:
            engine_options.setdefault("pool_pre_ping", True)
        self.engine = create_async_engine(url, **engine_options)
        if not self.is_postgres:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def session(self, scope: Scope) -> AsyncIterator[AsyncSession]:
        """One transaction in one scope: committed on success, rolled back on any error."""
        async with self._sessions() as session:
            session.info["scope"] = scope
            async with session.begin():
                yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


@asynccontextmanager
async def acting_as(session: AsyncSession, scope: Scope) -> AsyncIterator[AsyncSession]:
    """Act in another scope for a while, inside the same transaction.

    This is the explicit operator scope: e.g. the operator marking a municipality's need as
    tendered in the same transaction that creates the tender, so both happen or neither does.
    Callers audit the step in both organizations."""
    previous = session.info["scope"]
    await session.flush()
    session.info["scope"] = scope
    await session.run_sync(lambda s: _apply_settings(s.connection(), scope))
    try:
        yield session
        await session.flush()
    finally:
        session.info["scope"] = previous
        await session.run_sync(lambda s: _apply_settings(s.connection(), previous))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _scope_of(session: Session) -> Scope | None:
    return session.info.get("scope")


@event.listens_for(Session, "after_begin")
def _set_rls_settings(session: Session, _tx: SessionTransaction, connection: Connection) -> None:
    scope = _scope_of(session)
    if scope is not None:
        _apply_settings(connection, scope)


def _apply_settings(connection: Connection, scope: Scope) -> None:
    if connection.dialect.name != "postgresql":
        return
    # Only identities: policies derive anything else (the organization's kind) from the data.
    connection.exec_driver_sql(
        "SELECT set_config('app.tenant_id', $1, true), set_config('app.person_id', $2, true),"
        " set_config('app.person_email', $3, true)",
        (
            str(scope.tenant_id) if scope.tenant_id else "",
            str(scope.person_id) if scope.person_id else "",
            (scope.email or "").lower(),
        ),
    )


@event.listens_for(Session, "do_orm_execute")
def _add_tenant_criteria(state: ORMExecuteState) -> None:
    scope = _scope_of(state.session)
    if scope is None:
        return
    mapper = state.bind_mapper
    if state.is_insert and mapper is not None and issubclass(mapper.class_, HasTenant):
        # An INSERT statement skips before_flush, which checks each new row's organization.
        raise CrossTenantWrite(f"add {mapper.class_.__name__} rows with session.add()")
    if not (state.is_select or state.is_update or state.is_delete):
        return
    state.statement = state.statement.options(*_criteria(scope, reading=state.is_select))


def _criteria(scope: Scope, *, reading: bool) -> list[Any]:
    """Each tenant model's `visible_to` rule; shared rows are read-only to other tenants."""
    options = []
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        if not issubclass(cls, HasTenant):
            continue
        if reading or not issubclass(cls, SharedByRule):
            rule = cls.visible_to(scope)
        else:
            rule = cls.tenant_id == scope.tenant_id
        options.append(with_loader_criteria(cls, rule, include_aliases=True))
    return options


@event.listens_for(Session, "before_flush")
def _refuse_cross_tenant_writes(session: Session, _ctx: Any, _instances: Any) -> None:
    scope = _scope_of(session)
    if scope is None:
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        if not isinstance(obj, HasTenant):
            continue
        if obj.tenant_id is None:
            obj.tenant_id = scope.tenant_id
        if inspect(obj).attrs.tenant_id.history.deleted:
            raise CrossTenantWrite(f"{type(obj).__name__} cannot move to another organization")
        if obj.tenant_id == scope.tenant_id:
            continue
        # Some of a person's own rows (their notifications) they may update from anywhere.
        own = (
            isinstance(obj, PersonVisible) and obj.own_updates and obj.person_id == scope.person_id
        )
        if not (own and obj in session.dirty):
            raise CrossTenantWrite(f"{type(obj).__name__} belongs to another organization")
