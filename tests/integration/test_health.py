"""/healthz answers while the process lives; /readyz only when the database and broker answer."""

from dataclasses import replace

from litestar.testing import AsyncTestClient

from kyodo.app import create_app
from tests import support


async def test_ready_when_database_and_broker_answer(seeded):
    settings = replace(seeded, redis_url=support.REDIS_URL)
    async with AsyncTestClient(app=create_app(settings)) as client:
        assert (await client.get("/healthz")).status_code == 200
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["database"] == "ok" and ready.json()["broker"] == "ok"


async def test_not_ready_when_the_broker_is_down(seeded):
    settings = replace(seeded, redis_url=f"redis://127.0.0.1:{support.free_port()}/0")
    async with AsyncTestClient(app=create_app(settings)) as client:
        assert (await client.get("/healthz")).status_code == 200
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["broker"] != "ok"


async def test_not_ready_when_the_database_is_down(seeded):
    port = support.free_port()
    settings = replace(seeded, database_url=f"postgresql+asyncpg://kyodo@127.0.0.1:{port}/none")
    async with AsyncTestClient(app=create_app(settings)) as client:
        assert (await client.get("/healthz")).status_code == 200
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["database"] != "ok"


async def test_openapi_schema_is_served(app_client):
    schema = (await app_client.get("/schema/openapi.json")).json()
    assert "/api/v1/me" in schema["paths"]
