"""Each agency's peer support settings (its coordinators): what matching honours for
the agency's officers and supporters. An agency that never set them has the defaults
of `domain.AgencySettings`."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from shared.db import put_row
from shared.events import AgencySettingsUpdated
from shared.ids import AgencyId
from shared.routes import Runtime
from shared.vocab import TrainingArea

from .. import revision
from ..domain import AgencySettings
from ..fields import Body, TrainingAreas
from ..http import AGENCY_FIELD, PROBLEMS, AgencyQuery, Coordinator, own_agency
from ..store import AgencySettingsRow

router = APIRouter(prefix="/v1", tags=["settings"])

DEFAULTS = AgencySettings(agency_id="defaults")
SETTINGS = (
    "exclude_same_unit",
    "share_with_region",
    "use_regional_pool",
    "required_training",
    "care_for_carers_after",
)


class SettingsRecord(Body):
    """The whole settings: a field left out takes its default."""

    agency_id: AgencyId | None = Field(default=None, description=AGENCY_FIELD)
    exclude_same_unit: bool = Field(
        default=DEFAULTS.exclude_same_unit,
        description="Never assign a supporter from the officer's own unit.",
    )
    share_with_region: bool = Field(
        default=DEFAULTS.share_with_region,
        description="The agency's supporters may serve other agencies' officers.",
    )
    use_regional_pool: bool = Field(
        default=DEFAULTS.use_regional_pool,
        description="The agency's officers may be matched with other agencies' supporters.",
    )
    required_training: TrainingAreas = Field(
        default_factory=lambda: sorted(TrainingArea(a) for a in DEFAULTS.required_training),
        description="Areas a supporter must be currently trained in to be certified.",
    )
    care_for_carers_after: int = Field(
        default=DEFAULTS.care_for_carers_after,
        ge=1,
        le=100,
        description="Assignments closed within 30 days after which a supporter is "
        "offered support themself.",
    )


class SettingsView(BaseModel):
    agency_id: AgencyId
    exclude_same_unit: bool
    share_with_region: bool
    use_regional_pool: bool
    required_training: list[TrainingArea]
    care_for_carers_after: int
    updated_at: datetime | None = Field(description="Null: never set, the defaults apply.")


def _view(settings: AgencySettings, updated_at: datetime | None) -> SettingsView:
    return SettingsView(
        agency_id=settings.agency_id,
        exclude_same_unit=settings.exclude_same_unit,
        share_with_region=settings.share_with_region,
        use_regional_pool=settings.use_regional_pool,
        required_training=sorted(settings.required_training),
        care_for_carers_after=settings.care_for_carers_after,
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
    wanted = body.model_dump(mode="json", include=set(SETTINGS))
    async with rt.sessions() as session:
        row, changed = await put_row(session, AgencySettingsRow, {"agency_id": agency}, wanted)
        if changed:
            await revision.changed(
                session, AgencySettingsUpdated(agency_id=agency, **wanted), source=rt.source
            )
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
