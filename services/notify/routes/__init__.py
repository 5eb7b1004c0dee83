"""The notify service's HTTP routes."""

from __future__ import annotations

from . import channels, notifications

ROUTERS = (notifications.router, channels.router)
