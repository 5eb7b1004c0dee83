"""Entry point: `python -m services.incidents` or `peerline-incidents`."""

from __future__ import annotations

from shared.http_server import serve
from shared.settings import Settings


def main() -> None:
    serve(Settings(service="incidents"), "services.incidents.app:create_app")
