"""The migrations create exactly the tables the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from kyodo.db.base import Base
from kyodo.manifest import load_manifests


async def test_migrated_schema_matches_the_models(sqlite_url):
    load_manifests()  # registers every module's tables
    engine = create_async_engine(sqlite_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
    finally:
        await engine.dispose()
    assert diff == []


def test_tenant_tables_put_tenant_id_first_in_their_primary_key():
    load_manifests()
    for table in Base.metadata.tables.values():
        if "tenant_id" in table.c and table.c.tenant_id.primary_key:
            assert table.primary_key.columns.keys()[0] == "tenant_id", table.name
