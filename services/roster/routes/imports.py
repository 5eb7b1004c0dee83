"""The roster CSV import's route (coordinators; the import itself: `imports`): the
file as the body, one larger body limit, and every bad row as an error of one 422."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from shared.routes import Runtime

from .. import imports
from ..imports import Imported
from .deps import PROBLEMS, AgencyQuery, Coordinator, Seals, own_agency

router = APIRouter(prefix="/v1", tags=["imports"])

PATH = "/v1/imports"
MAX_BYTES = 8 << 20
"""8 MiB, where every other route takes 1 MiB (`PEERLINE_MAX_BODY_BYTES`): an agency of
10,000 officers is a file of up to about 1 MB, and the largest agencies have four times
that (decision 21)."""

EXAMPLE = """\
kind,supporter_id,personnel_id,display_name,email,weekly,unit,supervisor_id
supporter,S-7,PSO-7,Alex Rivera,alex@example.org,mon 08:00-18:00; tue 08:00-18:00,North,
officer,,B1234,,,,North,SGT-1
officer,,SGT-1,,,,North,
"""
CSV_BODY = {
    "requestBody": {
        "required": True,
        "description": "The roster CSV (docs/roster.md): UTF-8, a header row, one row per person.",
        "content": {"text/csv": {"schema": {"type": "string"}, "example": EXAMPLE}},
    }
}


@router.post(
    "/imports",
    response_model=Imported,
    responses=PROBLEMS,
    openapi_extra=CSV_BODY,
    summary="Import supporters, their training and officers from a CSV, all or nothing "
    "(publishes an event for each record that changed)",
)
async def import_roster(
    request: Request,
    caller: Coordinator,
    rt: Runtime,
    sealer: Seals,
    agency_id: AgencyQuery = None,
    dry_run: Annotated[
        bool, Query(description="Check every row, as an import would, and keep nothing.")
    ] = False,
) -> Imported:
    agency = own_agency(caller, agency_id)
    content = await request.body()
    async with rt.sessions() as session:
        imported = await imports.import_roster(
            session, caller, agency, content, sealer, dry_run=dry_run, source=rt.source
        )
        if not dry_run:
            await session.commit()
    return imported
