"""Each agency's peer support settings, put by its coordinators: what matching honours
for the agency's officers and supporters. An agency that never set them has the
defaults of `domain.AgencySettings`."""

from __future__ import annotations

from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import put_row
from shared.events import AgencySettingsUpdated
from shared.ids import AgencyId
from shared.vocab import TrainingArea

from . import revision
from .domain import AgencySettings
from .fields import AGENCY_FIELD, Body, TrainingAreas
from .store import AgencySettingsRow

DEFAULTS = AgencySettings(agency_id="defaults")
SETTINGS = (
    "exclude_same_unit",
    "share_with_region",
    "use_regional_pool",
    "required_training",
    "care_for_carers_after",
    "acknowledge_request_within",
    "acknowledge_assignment_within",
    "max_moves",
)
DAY = 86_400


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
    acknowledge_request_within: int = Field(
        default=int(DEFAULTS.acknowledge_request_within.total_seconds()),
        ge=1,
        le=DAY,
        description="Seconds a supporter has to take an officer's request before it moves "
        "to the next-best supporter.",
    )
    acknowledge_assignment_within: int = Field(
        default=int(DEFAULTS.acknowledge_assignment_within.total_seconds()),
        ge=1,
        le=7 * DAY,
        description="Seconds a supporter has to take an incident's assignment before it "
        "moves to the next-best supporter.",
    )
    max_moves: int = Field(
        default=DEFAULTS.max_moves,
        ge=0,
        le=10,
        description="Moves after which an assignment nobody took goes to the coordinators.",
    )


async def put_settings(
    session: AsyncSession, agency: str, record: SettingsRecord, *, source: str
) -> AgencySettingsRow:
    """Put the agency's settings, staging `AgencySettingsUpdated` with a new revision
    when they change."""
    wanted = record.model_dump(mode="json", include=set(SETTINGS))
    row, changed = await put_row(session, AgencySettingsRow, {"agency_id": agency}, wanted)
    if changed:
        await revision.changed(
            session, AgencySettingsUpdated(agency_id=agency, **wanted), source=source
        )
    return row
