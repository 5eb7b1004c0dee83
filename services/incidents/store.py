"""The incidents service's tables: incidents as kept (rule 7's fields only), each
agency's source-type mapping and each agency's EIDO settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UtcDateTime, service_metadata
from shared.events import Involved
from shared.vocab import Category

from .domain import Current


class Base(DeclarativeBase):
    """The incidents service's own tables (the kernel's: `shared.db.KernelBase`)."""

    metadata = service_metadata()


class IncidentRow(Base):
    __tablename__ = "incidents"
    __table_args__ = (UniqueConstraint("agency_id", "external_id"),)

    incident_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(32), index=True)
    external_id: Mapped[str] = mapped_column(String(128))
    category: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())
    involved: Mapped[list] = mapped_column(JSON)
    retraction_reason: Mapped[str | None] = mapped_column(String(32), default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    def current(self) -> Current:
        return Current(
            category=Category(self.category),
            involved=tuple(Involved.model_validate(i) for i in self.involved),
            retracted=self.retraction_reason is not None,
        )


class SourceTypeRow(Base):
    __tablename__ = "source_types"

    agency_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    # None: the code is not a critical incident for this agency.
    category: Mapped[str | None] = mapped_column(String(64), default=None)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class EidoSettingsRow(Base):
    """How an agency's EIDO documents are read (decision 35); no row: the defaults."""

    __tablename__ = "eido_settings"

    agency_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # The EIDO agency identifiers (lower case) that are this agency.
    agency_identifiers: Mapped[list] = mapped_column(JSON)
    dispatchers: Mapped[bool] = mapped_column(Boolean)
    personnel_id: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class EidoIdentifierRow(Base):
    """Which agency an EIDO agency identifier (lower case) belongs to: one only, so no
    agency's coordinator can claim another's documents (decision 63)."""

    __tablename__ = "eido_identifiers"

    identifier: Mapped[str] = mapped_column(String(255), primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(32), index=True)
