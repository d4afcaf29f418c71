"""Row-level security DDL for migrations (PostgreSQL only; SQLite relies on the ORM layer).

Each tenant-owned table gets ENABLE + FORCE (so even the table owner is filtered) and one policy
whose USING and WITH CHECK are the same predicate: rows of the organization in
`app.tenant_id`, plus, for tables that say so, the person's own rows.
"""

from __future__ import annotations

from alembic import op

CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
TENANT = f"tenant_id = {CURRENT_TENANT}"
PERSON = "person_id = NULLIF(current_setting('app.person_id', true), '')::uuid"
INVITEE = "email = NULLIF(current_setting('app.person_email', true), '')"
KIND = "current_setting('app.tenant_kind', true)"  # compare with IN ('operator', ...)

APP_ROLE = "kyodo_app"


def enable(table: str, *extra: str, read: str | None = None) -> None:
    """Force RLS on `table`. `extra` predicates widen visibility for every command (e.g.
    PERSON); `read` adds a rule under which other organizations may only SELECT rows."""
    if op.get_bind().dialect.name != "postgresql":
        return
    predicate = " OR ".join(f"({p})" for p in (TENANT, *extra))
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} USING ({predicate}) WITH CHECK ({predicate})"
    )
    if read:
        op.execute(f"DROP POLICY IF EXISTS shared_read ON {table}")
        op.execute(f"CREATE POLICY shared_read ON {table} FOR SELECT USING ({read})")


def ensure_app_role() -> None:
    """The role web and worker processes run as: owns nothing, no superuser, no BYPASSRLS.

    Created NOLOGIN here; the deployment gives it a password and LOGIN (compose does)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
            CREATE ROLE {APP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
          END IF;
        END $$"""  # noqa: S608 - a constant role name, no input
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")


def grant(table: str, privileges: str = "SELECT, INSERT, UPDATE, DELETE") -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"GRANT {privileges} ON {table} TO {APP_ROLE}")


def append_only(table: str) -> None:
    """The app may add and read rows, never change or remove them; a trigger stops the owner too."""
    if op.get_bind().dialect.name != "postgresql":
        return
    grant(table, "SELECT, INSERT")
    op.execute(
        """CREATE OR REPLACE FUNCTION kyodo_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN RAISE EXCEPTION 'append-only table %', TG_TABLE_NAME; END $$"""
    )
    op.execute(
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION kyodo_refuse_change()"
    )
