"""Entry point: `python -m services.incidents` or `peerline-incidents`."""

from __future__ import annotations

import logging

import uvicorn

from shared.settings import Settings

from .app import create_app


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings(service="incidents")
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.resolved_port(),
        access_log=False,  # paths can name people; requests are traced, scrubbed
        log_level="info",
    )
