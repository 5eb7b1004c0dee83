"""Serve a service's app over real HTTP from a thread, so tests (sync or async,
hypothesis included) talk to it exactly as a CAD would, through the same uvicorn
options as the service process."""

from __future__ import annotations

import asyncio
import threading
import time

import uvicorn
from fastapi import FastAPI

from peerline.natsd import free_port
from shared.http_server import server_options


class ThreadedServer:
    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # A bus service keeps its settings in its runtime; the portal has no runtime.
        runtime = getattr(app.state, "runtime", None)
        settings = (runtime.settings if runtime else app.state.settings).model_copy(
            update={"host": "127.0.0.1", "port": self.port}
        )
        config = uvicorn.Config(app, **server_options(settings), log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._error: BaseException | None = None

    def _run(self) -> None:
        try:
            asyncio.run(self._server.serve())
        except BaseException as exc:  # surfaced by start()
            self._error = exc

    def start(self, timeout: float = 30.0) -> ThreadedServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if self._error or not self._thread.is_alive():
                raise RuntimeError(f"service did not start: {self._error!r}")
            if time.monotonic() > deadline:
                raise TimeoutError("service did not start in time")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)
