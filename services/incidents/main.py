"""Entry point: `python -m services.incidents` or `peerline-incidents`."""

from __future__ import annotations

import uvicorn

from shared import logging as peerline_logging
from shared.settings import Settings

from .app import create_app


def main() -> None:
    settings = Settings(service="incidents")
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.resolved_port(),
        log_config=peerline_logging.config(),
        access_log=False,  # paths can name people; requests are traced, scrubbed
    )
