"""What supporters must renew, and the reminders that tell them.

Certification is current only while the agency's required training areas are (rule 6),
so one list holds both: a supporter's certification (`area` None) and each required
area that is missing, expired or expiring. Coordinators read the list; a periodic job
publishes `TrainingExpiring` for each dated item, once per (supporter, item, expiry
date): the row in `training_reminders` is claimed with an insert that does nothing on a
conflict, so replicas racing on the same tick and restarts never remind twice, and a
renewal (a new expiry date) earns a new reminder when it too runs out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Date, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared import outbox
from shared.db import UtcDateTime, upsert_insert
from shared.events import TrainingExpiring
from shared.service import ServiceRuntime
from shared.vocab import TrainingArea

from .domain import AgencySettings
from .expiry import Due, due
from .store import AgencySettingsRow, Base, SupporterRow, TrainingRow

log = logging.getLogger(__name__)

# Supporters are reminded this long before an expiry date.
HORIZON = timedelta(days=30)
CERTIFICATION = "certification"  # the `item` of a reminder about certified_until


class ReminderRow(Base):
    __tablename__ = "training_reminders"

    supporter_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    item: Mapped[str] = mapped_column(String(40), primary_key=True)  # an area, or CERTIFICATION
    expires_on: Mapped[date] = mapped_column(Date, primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime())


@dataclass(frozen=True)
class Renewal:
    agency_id: str
    supporter_id: str
    personnel_id: str
    area: TrainingArea | None  # None: the certification itself
    expires_on: date | None  # None: never recorded
    status: Due


async def renewals(
    session: AsyncSession, today: date, horizon: date, agency_id: str | None = None
) -> list[Renewal]:
    """Active supporters' certification and required training that is missing, expired,
    or valid only until `horizon` or sooner; of one agency, or of every agency."""
    query = select(
        SupporterRow.agency_id,
        SupporterRow.supporter_id,
        SupporterRow.personnel_id,
        SupporterRow.certified_until,
    ).where(SupporterRow.active.is_(True), SupporterRow.removed_at.is_(None))
    training = select(TrainingRow.supporter_id, TrainingRow.area, TrainingRow.expires_on)
    settings = select(AgencySettingsRow)
    if agency_id is not None:
        query = query.where(SupporterRow.agency_id == agency_id)
        training = training.where(TrainingRow.agency_id == agency_id)
        settings = settings.where(AgencySettingsRow.agency_id == agency_id)
    required = {
        row.agency_id: row.settings().required_training for row in await session.scalars(settings)
    }
    held: dict[str, dict[str, date]] = {}
    for supporter_id, area, expires_on in await session.execute(training):
        held.setdefault(supporter_id, {})[area] = expires_on
    found = []
    for supporter in await session.execute(query):
        areas = held.get(supporter.supporter_id, {})
        needed = required.get(
            supporter.agency_id, AgencySettings(supporter.agency_id).required_training
        )
        checks = [(None, supporter.certified_until)]
        checks += [(area, areas.get(area)) for area in sorted(needed)]
        for area, valid_until in checks:
            status = due(valid_until, today, horizon)
            if status is not None:
                found.append(
                    Renewal(
                        supporter.agency_id,
                        supporter.supporter_id,
                        supporter.personnel_id,
                        area,
                        valid_until,
                        status,
                    )
                )
    return found


async def remind(runtime: ServiceRuntime) -> int:
    """Publish a reminder for every dated renewal not reminded of yet; how many."""
    now = datetime.now(UTC)
    today = now.date()
    sent = 0
    async with runtime.sessions() as session:
        for renewal in await renewals(session, today, today + HORIZON):
            if renewal.expires_on is None:
                continue  # never recorded: the coordinator's list shows it, nobody to remind
            claimed = await session.execute(
                upsert_insert(session)(ReminderRow)
                .values(
                    supporter_id=renewal.supporter_id,
                    item=renewal.area or CERTIFICATION,
                    expires_on=renewal.expires_on,
                    sent_at=now,
                )
                .on_conflict_do_nothing()
            )
            if claimed.rowcount != 1:
                continue
            outbox.add(
                session,
                TrainingExpiring(
                    agency_id=renewal.agency_id,
                    supporter_id=renewal.supporter_id,
                    area=renewal.area,
                    expires_on=renewal.expires_on,
                ),
                source=runtime.source,
            )
            sent += 1
        await session.commit()
    if sent:
        log.info("reminded supporters of %d renewals", sent)
    return sent
