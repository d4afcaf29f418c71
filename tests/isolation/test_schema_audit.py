"""Schema audit: read the catalog of the migrated database and fail on any tenant table that
PostgreSQL does not fence in.

A table is a tenant table when it has a `tenant_id` column, so a module that adds one and forgets
its policy, its keys or its mixin fails here, whatever the table is called.
"""

from __future__ import annotations

import importlib
import importlib.util
import re

import pytest

from kyodo.db import Base, InviteeVisible, PersonVisible, SharedByRule, TenantOwned
from kyodo.manifest import load_manifests

pytestmark = pytest.mark.postgres

# The one predicate that may decide where a row is written: the organization of the transaction.
TENANT_PREDICATE = re.compile(
    r"^\(?tenant_id = \(NULLIF\(current_setting\('app\.tenant_id'::text, true\), ''::text\)\)"
    r"::uuid\)?$"
)

# Every schema but the system's: a module's table in a schema of its own is audited too.
USER_SCHEMA = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'"
)

TENANT_TABLES = f"""
SELECT c.oid, c.relname, c.relrowsecurity, c.relforcerowsecurity, a.attnotnull
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
WHERE {USER_SCHEMA} AND c.relkind IN ('r', 'p')
ORDER BY c.relname
"""


async def tenant_tables(owner) -> dict[str, dict]:
    return {r["relname"]: dict(r) for r in await owner.fetch(TENANT_TABLES)}


async def test_the_audit_sees_the_kernels_tenant_tables(owner):
    tables = await tenant_tables(owner)
    assert {"memberships", "role_grants", "notifications", "invitations", "audit_events"} <= set(
        tables
    )


async def test_every_tenant_table_forces_rls_and_has_a_tenant_policy(owner):
    problems = []
    for name, table in (await tenant_tables(owner)).items():
        if not table["relrowsecurity"]:
            problems.append(f"{name}: row-level security is not enabled")
        if not table["relforcerowsecurity"]:
            problems.append(f"{name}: row-level security is not forced (FORCE)")
        if not table["attnotnull"]:
            problems.append(f"{name}: tenant_id may be NULL")
        policies = await owner.fetch(
            "SELECT polname, polcmd::text AS polcmd, polpermissive,"
            " pg_get_expr(polqual, polrelid) AS using_expr,"
            " pg_get_expr(polwithcheck, polrelid) AS check_expr"
            " FROM pg_policy WHERE polrelid = $1",
            table["oid"],
        )
        if not policies:
            problems.append(f"{name}: no policy")
        if not any(
            p["polcmd"] == "*" and TENANT_PREDICATE.match(p["using_expr"] or "") for p in policies
        ):
            problems.append(f"{name}: no policy filters on app.tenant_id")
        for p in policies:
            if not p["polpermissive"]:
                continue
            # A policy for INSERT (or ALL) decides which rows may be written: only rows of the
            # transaction's organization, never "also the person's own rows elsewhere".
            if p["polcmd"] in ("*", "a"):
                check = p["check_expr"] or p["using_expr"] or ""
                if not TENANT_PREDICATE.match(check):
                    problems.append(
                        f"{name}: policy {p['polname']} lets rows be written outside the "
                        f"organization of the transaction: WITH CHECK {check}"
                    )
    assert not problems, "\n".join(problems)


async def test_policies_trust_only_identity_settings(owner):
    """The application tells the database who acts and where (tenant, person, e-mail); anything
    else a policy needs, such as the organization's kind, comes from the data. A setting like
    `app.tenant_kind` would let a transaction claim to be the operator."""
    allowed = {"app.tenant_id", "app.person_id", "app.person_email"}
    problems = []
    for p in await owner.fetch(
        "SELECT polrelid::regclass::text AS table_name, polname,"
        " concat(pg_get_expr(polqual, polrelid), ' ', pg_get_expr(polwithcheck, polrelid)) AS e"
        " FROM pg_policy"
    ):
        for setting in set(re.findall(r"current_setting\('([^']+)'", p["e"])) - allowed:
            problems.append(f"{p['table_name']}: policy {p['polname']} trusts {setting}")
    assert not problems, "\n".join(problems)


async def test_tenant_keys_include_tenant_id(owner):
    """Primary keys and unique keys carry tenant_id: composite keys stop cross-tenant links and
    a uniqueness conflict never reveals what another organization holds."""
    tables = await tenant_tables(owner)
    problems = []
    rows = await owner.fetch(
        "SELECT c.relname AS table_name, i.relname AS index_name, x.indisprimary,"
        " array_agg(a.attname) FILTER (WHERE a.attname IS NOT NULL) AS columns"
        " FROM pg_index x"
        " JOIN pg_class c ON c.oid = x.indrelid"
        " JOIN pg_class i ON i.oid = x.indexrelid"
        " LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(x.indkey)"
        " WHERE x.indisunique AND c.relname = ANY($1::text[])"
        " GROUP BY c.relname, i.relname, x.indisprimary",
        list(tables),
    )
    primary = {r["table_name"] for r in rows if r["indisprimary"]}
    for r in rows:
        if "tenant_id" not in (r["columns"] or []):
            kind = "primary key" if r["indisprimary"] else "unique index"
            problems.append(f"{r['table_name']}: {kind} {r['index_name']} lacks tenant_id")
    problems += [f"{t}: no primary key" for t in sorted(set(tables) - primary)]
    assert not problems, "\n".join(problems)


async def test_foreign_keys_between_tenant_tables_include_tenant_id(owner):
    tables = set(await tenant_tables(owner))
    rows = await owner.fetch(
        "SELECT con.conname, src.relname AS src, dst.relname AS dst,"
        " ARRAY(SELECT attname FROM unnest(con.conkey) WITH ORDINALITY k(n, i)"
        "       JOIN pg_attribute ON attrelid = con.conrelid AND attnum = k.n ORDER BY k.i)"
        "   AS src_columns,"
        " ARRAY(SELECT attname FROM unnest(con.confkey) WITH ORDINALITY k(n, i)"
        "       JOIN pg_attribute ON attrelid = con.confrelid AND attnum = k.n ORDER BY k.i)"
        "   AS dst_columns"
        " FROM pg_constraint con"
        " JOIN pg_class src ON src.oid = con.conrelid"
        " JOIN pg_class dst ON dst.oid = con.confrelid"
        " JOIN pg_namespace n ON n.oid = src.relnamespace"
        f" WHERE con.contype = 'f' AND {USER_SCHEMA}"
    )
    problems = []
    for r in rows:
        if r["dst"] not in tables:
            continue
        if r["src"] not in tables:
            problems.append(
                f"{r['conname']}: global table {r['src']} points into tenant table {r['dst']}"
            )
            continue
        pairs = dict(zip(r["dst_columns"], r["src_columns"], strict=True))
        # Same organization: tenant_id -> tenant_id. A deliberate link into another organization
        # names that organization in its own column (e.g. need_tenant_id -> tenant_id).
        if not pairs.get("tenant_id", "").endswith("tenant_id"):
            problems.append(
                f"{r['conname']}: {r['src']}{tuple(r['src_columns'])} -> "
                f"{r['dst']}{tuple(r['dst_columns'])} does not include the tenant_id"
            )
    assert not problems, "\n".join(problems)


async def test_no_view_or_function_runs_around_rls(owner):
    """Views run as their owner unless security_invoker is set, and a SECURITY DEFINER
    function runs as its owner: both would read tenant rows with the migration role's rights
    (a superuser bypasses RLS)."""
    views = await owner.fetch(
        "SELECT c.relname, c.relkind::text AS relkind, c.reloptions FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        f" WHERE {USER_SCHEMA} AND c.relkind IN ('v', 'm')"
    )
    problems = [
        f"view {v['relname']}: materialized views cannot be fenced by RLS"
        if v["relkind"] == "m"
        else f"view {v['relname']}: needs WITH (security_invoker = true)"
        for v in views
        if v["relkind"] == "m"
        or not {"security_invoker=true", "security_invoker=on"} & set(v["reloptions"] or [])
    ]
    definers = await owner.fetch(
        "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
        f" WHERE {USER_SCHEMA} AND p.prosecdef"
    )
    problems += [f"function {f['proname']} is SECURITY DEFINER" for f in definers]
    assert not problems, "\n".join(problems)


def _import_module_models() -> None:
    """Import every module's models, so the ORM registry holds all tables."""
    for manifest in load_manifests():
        name = f"{manifest.name}.models"
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)


async def test_every_orm_model_with_tenant_id_uses_a_tenancy_mixin(owner):
    """The ORM layer (and the only layer on SQLite) scopes queries by these mixins; a model that
    declares tenant_id by hand would be read across organizations."""
    _import_module_models()
    mixins = (TenantOwned, PersonVisible, InviteeVisible, SharedByRule)
    tables = set(await tenant_tables(owner))
    problems = []
    for mapper in Base.registry.mappers:
        cls, table = mapper.class_, mapper.local_table
        if "tenant_id" not in table.c:
            continue
        if not issubclass(cls, mixins):
            problems.append(f"{cls.__module__}.{cls.__name__}: tenant_id without a tenancy mixin")
        if table.name not in tables:
            problems.append(f"{cls.__name__}: table {table.name} is not a migrated tenant table")
    assert not problems, "\n".join(problems)
