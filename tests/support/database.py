"""What a running service has stored, read the way a test on its own loop can."""

from __future__ import annotations

from sqlalchemy import select

from shared.db import create_engine, sessionmaker


async def database_rows(service, model) -> list:
    """Every row of `model` in the service's database, read through an engine of the
    test's own event loop."""
    url = service.runtime.engine.url.render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        async with sessionmaker(engine)() as session:
            return list((await session.scalars(select(model))).all())
    finally:
        await engine.dispose()
