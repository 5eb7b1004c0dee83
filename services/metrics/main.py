"""Entry point: `python -m services.metrics` or `peerline-metrics`."""

from __future__ import annotations

from shared.http_server import serve
from shared.settings import Settings


def main() -> None:
    serve(Settings(service="metrics"), "services.metrics.app:create_app")
