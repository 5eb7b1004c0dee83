"""The incidents service's HTTP routes: reports and retractions, EIDOs and how they are
read, and the agency's source-type mapping."""

from __future__ import annotations

from . import eido, incidents, source_types

ROUTERS = (incidents.router, eido.router, source_types.router)
