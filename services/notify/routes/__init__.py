"""The notify service's HTTP routes."""

from __future__ import annotations

from . import notifications

ROUTERS = (notifications.router,)
