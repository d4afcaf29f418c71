"""The deployment files: compose.yaml, the Dockerfile, the Keycloak realm, the postgres init script.

No docker engine runs here, so compose.yaml is checked against the compose specification and
for what the deployment relies on; the postgres init script runs for real against the test
PostgreSQL, followed by the migration as the owner it creates and the demo seed as the app role.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import uuid
from asyncio.subprocess import PIPE, STDOUT
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest
import yaml

from kyodo.db import Database
from kyodo.db.migrate import upgrade_async
from kyodo.settings import Settings
from tenants.seed import DEMO_PEOPLE, seed_demo
from tests import support

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
REALM = ROOT / "deploy" / "keycloak" / "kyodo-realm.json"
INIT_SCRIPT = ROOT / "deploy" / "postgres" / "10-kyodo-roles.sh"
KYODO_SERVICES = ("migrate", "seed", "web", "worker")


def interpolate(value: object) -> str:
    """Compose's `${VAR:-default}` with no .env file: what a fresh checkout runs with."""
    text = re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: m.group(2), str(value))
    return text.replace("$$", "$")


def strings(node: object) -> list[str]:
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in [str(key), *strings(value)]]
    if isinstance(node, list):
        return [s for item in node for s in strings(item)]
    return [str(node)]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def realm() -> dict:
    return json.loads(REALM.read_text(encoding="utf-8"))


def service_env(compose: dict, name: str) -> dict[str, str]:
    return {k: interpolate(v) for k, v in compose["services"][name]["environment"].items()}


def test_compose_file_matches_the_compose_specification():
    exe = Path(sys.executable).with_name("check-jsonschema")
    result = subprocess.run(
        [str(exe), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_variable_has_a_default_and_shell_dollars_are_escaped(compose):
    # `docker compose up` must work without a .env; a lone `$` would be eaten by interpolation.
    for text in strings(compose):
        rest = re.sub(r"\$\{\w+:-[^}]*\}", "", text.replace("$$", ""))
        assert "$" not in rest, f"unescaped or default-less variable in {text!r}"


def test_services_images_and_durable_redis(compose):
    services = compose["services"]
    assert {"postgres", "redis", "keycloak", *KYODO_SERVICES} <= services.keys()
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    # Queued jobs survive a Redis restart only with the append-only file on a volume.
    command = services["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert any(v.endswith(":/data") for v in services["redis"]["volumes"])
    keycloak = services["keycloak"]
    assert keycloak["image"].startswith("quay.io/keycloak/keycloak:")
    assert keycloak["command"] == ["start-dev", "--import-realm"]
    assert "./deploy/keycloak:/opt/keycloak/data/import:ro" in keycloak["volumes"]
    assert "./deploy/postgres:/docker-entrypoint-initdb.d:ro" in services["postgres"]["volumes"]


def test_kyodo_processes_run_the_image_built_here(compose):
    services = compose["services"]
    commands = {name: services[name]["command"] for name in KYODO_SERVICES}
    assert commands == {
        "migrate": ["kyodo", "migrate"],
        "seed": ["kyodo", "seed"],
        "web": ["kyodo", "serve"],
        "worker": ["kyodo", "worker"],
    }
    for name in KYODO_SERVICES:
        assert services[name]["build"] == "."
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.M)
    assert "pip install ." in dockerfile
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.M), "the image must not run as root"
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".git", ".venv", "var"} <= set(ignored)


def test_web_and_worker_connect_as_the_app_role_and_only_migrate_as_the_owner(compose):
    postgres = service_env(compose, "postgres")
    for name in KYODO_SERVICES:
        env = service_env(compose, name)
        app = urlsplit(env["KYODO_DATABASE_URL"])
        assert (app.username, app.password) == ("kyodo_app", postgres["KYODO_APP_PASSWORD"])
        assert app.hostname == "postgres"
    owner = urlsplit(service_env(compose, "migrate")["KYODO_MIGRATE_DATABASE_URL"])
    assert (owner.username, owner.password) == ("kyodo_owner", postgres["KYODO_OWNER_PASSWORD"])
    # The long-running processes never hold the owner's or the superuser's password.
    for name in ("seed", "web", "worker"):
        env = json.dumps(service_env(compose, name))
        assert "KYODO_MIGRATE_DATABASE_URL" not in env
        assert postgres["KYODO_OWNER_PASSWORD"] not in env
        assert postgres["POSTGRES_PASSWORD"] not in env


def test_compose_sets_every_setting_and_they_pass_validation(compose):
    source = (ROOT / "platform" / "kyodo" / "settings.py").read_text(encoding="utf-8")
    read_by_settings = set(re.findall(r'"(KYODO_[A-Z_]+)"', source))
    for name in KYODO_SERVICES:
        env = service_env(compose, name)
        wanted = read_by_settings - ({"KYODO_MIGRATE_DATABASE_URL"} if name != "migrate" else set())
        assert wanted <= env.keys(), wanted - env.keys()
        settings = Settings.from_env(environ=env)  # raises, naming the setting, if one is bad
        assert settings.env == "production"
        assert settings.redis_url == "redis://redis:6379/0"
        assert settings.is_postgres


def test_migrate_finishes_before_web_and_worker_start(compose):
    services = compose["services"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["restart"] == "no"
    for name in ("seed", "web", "worker"):
        migrate = services[name]["depends_on"]["migrate"]
        assert migrate["condition"] == "service_completed_successfully"
    for name in ("web", "worker"):
        for dependency in ("postgres", "redis"):
            assert services[name]["depends_on"][dependency]["condition"] == "service_healthy"


def test_health_checks(compose):
    services = compose["services"]
    for name in ("postgres", "redis", "keycloak", "web"):
        assert services[name]["healthcheck"]["test"], name
    assert any("/readyz" in part for part in services["web"]["healthcheck"]["test"])
    assert any("/health/ready" in part for part in services["keycloak"]["healthcheck"]["test"])


def test_nothing_is_published_beyond_localhost(compose):
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            host_ip = port.get("host_ip") if isinstance(port, dict) else port.split(":")[0]
            assert host_ip == "127.0.0.1", f"{name} publishes {port!r} on every interface"
    # The database and the broker are reached over the compose network only.
    assert "ports" not in compose["services"]["postgres"]
    assert "ports" not in compose["services"]["redis"]


def test_realm_client_is_confidential_code_flow_with_pkce_s256(compose, realm):
    web = service_env(compose, "web")
    keycloak = service_env(compose, "keycloak")
    assert realm["realm"] == "kyodo"
    [client] = [c for c in realm["clients"] if c["clientId"] == web["KYODO_OIDC_CLIENT_ID"]]
    assert client["publicClient"] is False
    assert client["clientAuthenticatorType"] == "client-secret"
    assert client["standardFlowEnabled"] is True
    for other_flow in ("implicitFlowEnabled", "directAccessGrantsEnabled"):
        assert client[other_flow] is False
    assert client["serviceAccountsEnabled"] is False
    assert client["attributes"]["pkce.code.challenge.method"] == "S256"
    assert client["redirectUris"] == [web["KYODO_BASE_URL"] + "/auth/callback"]
    # `basic` carries the `sub` claim in Keycloak 25+; profile and email the rest.
    assert {"basic", "profile", "email"} <= set(client["defaultClientScopes"])
    # Keycloak fills the secret from its environment at import; it must be Kyodo's secret.
    placeholder = re.fullmatch(r"\$\{(\w+)\}", client["secret"])
    assert placeholder, "the client secret comes from the environment, not the file"
    assert keycloak[placeholder.group(1)] == web["KYODO_OIDC_CLIENT_SECRET"]


def test_issuer_is_one_url_for_browser_and_containers(compose, realm):
    web = service_env(compose, "web")
    keycloak = compose["services"]["keycloak"]
    hostname = service_env(compose, "keycloak")["KC_HOSTNAME"]
    assert web["KYODO_OIDC_ISSUER"] == f"{hostname}/realms/{realm['realm']}"
    issuer_host = urlsplit(hostname).hostname
    assert issuer_host.endswith(".localhost"), "browsers resolve *.localhost to this machine"
    assert issuer_host in keycloak["networks"]["default"]["aliases"]
    assert f"127.0.0.1:{urlsplit(hostname).port}:8080" in keycloak["ports"]


def test_realm_has_every_demo_person_with_sub_equal_to_email(realm):
    users = {u["id"]: u for u in realm["users"]}
    for email, _name, _slug, _roles in DEMO_PEOPLE:
        assert len(email) <= 36, f"Keycloak user ids are at most 36 characters: {email}"
        user = users[email]  # the id is the OIDC `sub`, which the seed expects to be the e-mail
        assert user["username"] == user["email"] == email
        assert user["emailVerified"] is True and user["enabled"] is True
        assert user["firstName"] and user["lastName"], "else Keycloak asks to complete the profile"
        [credential] = user["credentials"]
        assert credential["type"] == "password" and credential["temporary"] is False
        assert credential["value"] == "kyodo-demo"  # documented in README.md
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "kyodo-demo" in readme


@pytest.mark.postgres
async def test_init_script_gives_migration_a_plain_owner_and_the_app_role_a_login(tmp_path):
    """What compose does on first start, on the test PostgreSQL: init script, migrate, seed."""
    admin = urlsplit(support.PG_ADMIN_URL)
    database = f"kyodo_deploy_{uuid.uuid4().hex[:10]}"
    await admin_sql(f'CREATE DATABASE "{database}"')
    try:
        env = {
            **os.environ,
            "PGHOST": admin.hostname or "127.0.0.1",
            "PGPORT": str(admin.port or 5432),
            "PGPASSWORD": admin.password or "",
            "POSTGRES_USER": admin.username or "postgres",
            "POSTGRES_DB": database,
            "KYODO_OWNER_PASSWORD": "owner-pw-with-'quote",
            "KYODO_APP_PASSWORD": "app-pw",
        }
        script = await asyncio.create_subprocess_exec(
            "sh", str(INIT_SCRIPT), env=env, stdout=PIPE, stderr=STDOUT
        )
        output, _ = await script.communicate()
        assert script.returncode == 0, output.decode()

        roles = await admin_sql(
            "SELECT rolname, rolsuper, rolbypassrls, rolcanlogin, rolcreaterole FROM pg_roles"
            " WHERE rolname IN ('kyodo_owner', 'kyodo_app') ORDER BY rolname",
            fetch=True,
        )
        assert [tuple(r) for r in roles] == [
            ("kyodo_app", False, False, True, False),
            ("kyodo_owner", False, False, True, False),
        ]

        # The migration runs as a database owner that is no superuser.
        await upgrade_async(support.pg_url(database, "kyodo_owner"))
        owners = await admin_sql(
            "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'",
            fetch=True,
            database=database,
        )
        assert [r[0] for r in owners] == ["kyodo_owner"]

        # The app role, owning nothing, can load the demo data through RLS.
        settings = support.make_settings(
            support.pg_url(database, "kyodo_app"), "http://issuer.test", var_dir=tmp_path
        )
        db = Database(settings.database_url)
        try:
            await seed_demo(db, settings)
        finally:
            await db.dispose()
        people = await admin_sql("SELECT count(*) FROM people", fetch=True, database=database)
        assert people[0][0] == len(DEMO_PEOPLE)
    finally:
        await admin_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


async def admin_sql(sql: str, *, fetch: bool = False, database: str = "postgres") -> list:
    conn = await asyncpg.connect(support.PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}")
    try:
        if fetch:
            return await conn.fetch(sql)
        await conn.execute(sql)
        return []
    finally:
        await conn.close()
