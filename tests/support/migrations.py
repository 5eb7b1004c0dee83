"""Whether a service's migrations build exactly the tables its code maps."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData

from shared import db


async def differences(database_url: str, migrations: Path, metadata: MetaData) -> list:
    """What differs between the database `migrations` build and the tables the code
    maps: the service's own (`metadata`, of its declarative base) and the kernel's."""
    engine = db.create_engine(database_url)
    try:
        await db.migrate(engine, migrations)
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync), [db.KernelBase.metadata, metadata]
                )
            )
    finally:
        await engine.dispose()


def head(migrations: Path) -> str:
    """The revision a service's migrations end at."""
    config = Config()
    config.set_main_option("script_location", str(migrations))
    return ScriptDirectory.from_config(config).get_current_head()
