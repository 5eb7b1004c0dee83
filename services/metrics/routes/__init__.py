"""The metrics service's HTTP routes."""

from __future__ import annotations

from . import dashboard, metrics, reports

ROUTERS = (metrics.router, reports.router, dashboard.router)
# The dashboard's page is code and styles only; its data is fetched with a token.
ANONYMOUS_PATHS: frozenset[str] = frozenset({dashboard.PAGE_PATH})
