"""The agency's source-type mapping: the defaults with the agency's overrides on top,
and the overrides a coordinator sets or drops."""

from __future__ import annotations

from dataclasses import dataclass

from shared.db import put_row
from shared.service import ServiceRuntime
from shared.vocab import Category

from . import intake
from .categories import DEFAULT_SOURCE_TYPES, normalise
from .store import SourceTypeRow


@dataclass(frozen=True)
class Entry:
    code: str
    category: Category | None
    origin: str  # "default" or "agency"


async def effective(runtime: ServiceRuntime, agency_id: str) -> list[Entry]:
    """Every mapped code, the agency's override where it has one, by code."""
    async with runtime.readers() as session:
        overrides = await intake.agency_overrides(session, agency_id)
    entries = {code: Entry(code, cat, "default") for code, cat in DEFAULT_SOURCE_TYPES.items()}
    for code, cat in overrides.items():
        entries[code] = Entry(code, cat, "agency")
    return sorted(entries.values(), key=lambda m: m.code)


async def override(
    runtime: ServiceRuntime, agency_id: str, code: str, category: Category | None
) -> Entry:
    """Map the agency's `code` to `category` (None: not critical)."""
    key = normalise(code)
    async with runtime.sessions() as session:
        where = {"agency_id": agency_id, "code": key}
        await put_row(
            session, SourceTypeRow, where, {"category": category.value if category else None}
        )
        await session.commit()
    return Entry(key, category, "agency")


async def drop(runtime: ServiceRuntime, agency_id: str, code: str) -> None:
    """Drop the agency's override of `code`; the default (if any) applies again."""
    async with runtime.sessions() as session:
        row = await session.get(SourceTypeRow, (agency_id, normalise(code)))
        if row is not None:
            await session.delete(row)
            await session.commit()
