"""The Gunicorn worker: uvicorn-worker's UvicornWorker, made to exit cleanly on SIGTERM and to
cap the size of a request's head (app/server/http_protocol.py)."""

from __future__ import annotations

import gc
import signal
import sys
from types import FrameType
from typing import Any

from gunicorn.arbiter import Arbiter
from uvicorn.server import Server
from uvicorn_worker import UvicornWorker as _UvicornWorker

from app.server.settings import server_settings


class _Server(Server):
    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        # Open live streams end now, so the graceful shutdown never waits on them (they would
        # otherwise hold it until GUNICORN_GRACEFUL_TIMEOUT). Only if the API loaded them.
        events = sys.modules.get("app.events.hub")
        if events is not None:
            events.shutdown_signal_received()
        # Uvicorn re-raises the captured signal after its graceful shutdown, so the worker dies
        # of SIGTERM and Gunicorn logs "Worker was sent SIGTERM!". The shutdown was clean: forget
        # the signal and let the worker exit 0 on its own.
        if sig in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
            self._captured_signals.clear()


class UvicornWorker(_UvicornWorker):
    # Client addresses come from the app's own TRUSTED_PROXIES handling, not uvicorn's.
    CONFIG_KWARGS = {
        **_UvicornWorker.CONFIG_KWARGS,
        "proxy_headers": False,
        # httptools (the production protocol) with the head size cap that h11 has built in.
        "http": "app.server.http_protocol:LimitedHttpToolsProtocol",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Read in the worker, as gunicorn.conf.py (which has already checked it) reads its own.
        limit = server_settings().max_header_bytes
        self.CONFIG_KWARGS = {**self.CONFIG_KWARGS, "h11_max_incomplete_event_size": limit}
        super().__init__(*args, **kwargs)

    def load_wsgi(self) -> None:
        # Importing and building the app makes a great many objects that live as long as the
        # worker: the cyclic collector's full passes over them while they are made free next to
        # nothing and were a visible share of the boot (docs/performance.md). So none runs until
        # the app is built, and what the boot made is then frozen out of every later pass (the
        # request path's collections no longer walk it either).
        gc.disable()
        try:
            super().load_wsgi()
        finally:
            gc.freeze()
            gc.enable()

    async def _serve(self) -> None:
        self.config.app = self.wsgi
        server = _Server(config=self.config)
        self._install_sigquit_handler()
        await server.serve(sockets=self.sockets)
        if not server.started:
            sys.exit(Arbiter.WORKER_BOOT_ERROR)
