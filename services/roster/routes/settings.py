"""Each agency's peer support settings (its coordinators; the writes: `settings`)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from shared.ids import AgencyId
from shared.routes import Runtime
from shared.vocab import TrainingArea

from .. import settings
from ..domain import AgencySettings
from ..settings import SettingsRecord
from ..store import AgencySettingsRow
from .deps import PROBLEMS, AgencyQuery, Coordinator, own_agency

router = APIRouter(prefix="/v1", tags=["settings"])


class SettingsView(BaseModel):
    agency_id: AgencyId
    exclude_same_unit: bool
    share_with_region: bool
    use_regional_pool: bool
    required_training: list[TrainingArea]
    care_for_carers_after: int
    acknowledge_request_within: int = Field(description="Seconds.")
    acknowledge_assignment_within: int = Field(description="Seconds.")
    max_moves: int
    updated_at: datetime | None = Field(description="Null: never set, the defaults apply.")


def _view(values: AgencySettings, updated_at: datetime | None) -> SettingsView:
    return SettingsView(
        agency_id=values.agency_id,
        exclude_same_unit=values.exclude_same_unit,
        share_with_region=values.share_with_region,
        use_regional_pool=values.use_regional_pool,
        required_training=sorted(values.required_training),
        care_for_carers_after=values.care_for_carers_after,
        acknowledge_request_within=int(values.acknowledge_request_within.total_seconds()),
        acknowledge_assignment_within=int(values.acknowledge_assignment_within.total_seconds()),
        max_moves=values.max_moves,
        updated_at=updated_at,
    )


@router.put(
    "/settings",
    response_model=SettingsView,
    responses=PROBLEMS,
    summary="Set the agency's settings (publishes AgencySettingsUpdated when they change)",
)
async def put_settings(body: SettingsRecord, caller: Coordinator, rt: Runtime) -> SettingsView:
    agency = own_agency(caller, body.agency_id)
    async with rt.sessions() as session:
        row = await settings.put_settings(session, agency, body, source=rt.source)
        await session.commit()
    return _view(row.settings(), row.updated_at)


@router.get(
    "/settings",
    response_model=SettingsView,
    responses=PROBLEMS,
    summary="The agency's settings (the defaults if never set)",
)
async def get_settings(
    caller: Coordinator, rt: Runtime, agency_id: AgencyQuery = None
) -> SettingsView:
    agency = own_agency(caller, agency_id)
    async with rt.readers() as session:
        row = await session.get(AgencySettingsRow, agency)
    if row is None:
        return _view(AgencySettings(agency_id=agency), None)
    return _view(row.settings(), row.updated_at)
