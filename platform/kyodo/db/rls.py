"""Row-level security DDL for migrations (PostgreSQL only; SQLite relies on the ORM layer).

Each tenant-owned table gets ENABLE + FORCE (so even the table owner is filtered) and a policy
`tenant_isolation`: the organization in `app.tenant_id` reads and writes its own rows, and rows
are only ever written into that organization. Wider *reading* is granted by separate policies:
the person's own rows from anywhere (`own`) and rules under which other organizations may read
(`read`). Being able to read a row elsewhere never makes it writable there: a person who could
write their own memberships from anywhere could add themselves to any organization.
"""

from __future__ import annotations

from alembic import op

CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
TENANT = f"tenant_id = {CURRENT_TENANT}"
PERSON = "person_id = NULLIF(current_setting('app.person_id', true), '')::uuid"
INVITEE = "email = NULLIF(current_setting('app.person_email', true), '')"
# The kind of the organization in app.tenant_id, read from organizations rather than from a
# setting: a transaction cannot claim to be the operator while acting as a municipality.
# Compare with IN ('operator', ...).
KIND = f"(SELECT o.kind FROM organizations o WHERE o.id = {CURRENT_TENANT})"  # noqa: S608

APP_ROLE = "kyodo_app"


def enable(
    table: str, *, own: str | None = None, own_updates: bool = False, read: str | None = None
) -> None:
    """Force RLS on `table`.

    `own` (PERSON or INVITEE) lets the person read the rows that concern them from any
    organization; with `own_updates` they may also update them there (mark a notification
    read), never insert. `read` adds a rule under which other organizations may SELECT rows.
    A trigger keeps every row in the organization it was written in."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    policies = {"tenant_isolation": f"USING ({TENANT}) WITH CHECK ({TENANT})"}
    if own:
        policies["own_read"] = f"FOR SELECT USING ({own})"
    if own and own_updates:
        policies["own_update"] = f"FOR UPDATE USING ({own}) WITH CHECK ({own})"
    if read:
        policies["shared_read"] = f"FOR SELECT USING ({read})"
    for name, body in policies.items():
        op.execute(f"DROP POLICY IF EXISTS {name} ON {table}")
        op.execute(f"CREATE POLICY {name} ON {table} {body}")
    op.execute(
        """CREATE OR REPLACE FUNCTION kyodo_keep_tenant() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN
             IF NEW.tenant_id IS DISTINCT FROM OLD.tenant_id THEN
               RAISE EXCEPTION 'a row of % cannot move to another organization', TG_TABLE_NAME;
             END IF;
             RETURN NEW;
           END $$"""
    )
    op.execute(f"DROP TRIGGER IF EXISTS {table}_keep_tenant ON {table}")
    op.execute(
        f"CREATE TRIGGER {table}_keep_tenant BEFORE UPDATE OF tenant_id ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION kyodo_keep_tenant()"
    )


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
