"""Whether a service's migrations build exactly the tables its code maps."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from shared import db

# Every service's first migration creates these too.
KERNEL_TABLES = frozenset({"outbox", "inbox", "audit_log"})


async def differences(database_url: str, migrations: Path, models) -> list:
    """What differs between the database `migrations` build and the tables of `models`
    (plus the kernel's); the metadata also holds other services' tables, imported by
    their tests, which are left out."""
    tables = {model.__tablename__ for model in models} | KERNEL_TABLES

    def ours(obj, name, type_, reflected, compare_to) -> bool:
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return table is None or table.name in tables

    engine = db.create_engine(database_url)
    try:
        await db.migrate(engine, migrations)
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"include_object": ours}),
                    db.Base.metadata,
                )
            )
    finally:
        await engine.dispose()


def head(migrations: Path) -> str:
    """The revision a service's migrations end at."""
    config = Config()
    config.set_main_option("script_location", str(migrations))
    return ScriptDirectory.from_config(config).get_current_head()
