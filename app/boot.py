"""What the worker serves (`app.main:app`): a front that answers the health probes from the
moment the worker boots, while the API is built in a thread.

Importing SQLAlchemy and the domain packages and building every route's schemas takes a second
or more, and Render, like the start-up benchmark, waits for the first `/health` 200. So the
front's lifespan starts that build and returns at once, and until the API is built:

- GET/HEAD `/health` and `/live` are answered here, by the same routes behind the same
  RequestContextMiddleware as in the built app: the same body, headers and access line (they
  are not counted in `/metrics`, whose registry belongs to the API and does not exist yet);
- `/ready` answers 503 SERVICE_UNAVAILABLE in the error shape: the worker is alive but cannot
  serve the API yet (a load balancer that checks `/ready` waits for it; `/health` is liveness);
- every other request waits for the build (at most BUILD_WAIT_S, then the same 503) and then
  gets the API's own answer: never a 404 for a route that is merely not built yet.

Once built, the API's lifespan runs (as a server would run it) and every request goes to the
API, except the probes' own GET/HEAD: the front keeps answering those, `/ready` included and
counted in the API's `/metrics`, with the same routes and RequestContextMiddleware the API
would use, so that they skip FastAPI's outer layers (its application call, error and
body-limit middleware), which cost more than the probe itself.

A build that fails (a module that does not import, create_app raising, the API's lifespan
failing) is logged with its traceback and ends the worker process with Gunicorn's boot-error
status, so the master stops and the deploy fails instead of serving without those routes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import FastAPI
from gunicorn.arbiter import Arbiter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.config import Settings
from app.core.errors import error_response
from app.core.logging import configure_logging
from app.core.metrics import Metrics
from app.core.middleware import RequestContextMiddleware, TrustedProxies
from app.core.routing import ProbeLane
from app.health.probes import health_route, live_route, probe_routes, ready_route

logger = logging.getLogger("app.boot")

T = TypeVar("T")

# How long a request that arrives before the API is built waits for it before a 503.
BUILD_WAIT_S = 30.0


class DeferredApp:
    """An ASGI app that serves the probes at once and everything else once `build()` (run in a
    thread when the lifespan starts) has returned the API."""

    def __init__(self, build: Callable[[], FastAPI], settings: Settings) -> None:
        configure_logging(settings.log_level)
        self._build = build
        self._api: FastAPI | None = None
        self._built = asyncio.Event()
        self._activation: asyncio.Task[None] | None = None
        self._api_lifespan: Lifespan | None = None
        self._proxies = TrustedProxies(settings.trusted_proxies)
        self._hsts = settings.is_production
        self._liveness = ProbeLane(self._starting, routes=[health_route, live_route])
        # Never scraped: /metrics is the API's registry, which does not exist yet.
        self._boot_stack = self._probe_stack(self._liveness, Metrics(lambda: None, lambda: None))
        self._probes = ProbeLane(self._starting, routes=probe_routes)
        self._api_probes: ASGIApp = self._boot_stack  # replaced once the API is built

    def _probe_stack(self, lane: ProbeLane, metrics: Metrics) -> ASGIApp:
        return RequestContextMiddleware(
            lane, metrics=metrics, proxies=self._proxies, hsts=self._hsts
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._api is not None:
            if self._probes.route_for(scope):
                await self._api_probes(scope, receive, send)
            else:
                await self._api(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
        elif self._liveness.route_for(scope) or scope.get("path") == ready_route.path:
            await self._boot_stack(scope, receive, send)
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._built.wait(), BUILD_WAIT_S)
            await (self._api or self._boot_stack)(scope, receive, send)

    async def _starting(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == ready_route.path:
            scope["route"] = ready_route  # the access line and metrics name it as the API does
        response = error_response(
            503,
            "SERVICE_UNAVAILABLE",
            "The service is starting. Try again shortly.",
            headers={"Retry-After": "1", "Cache-Control": "no-store"},
        )
        await response(scope, receive, send)

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        await receive()  # lifespan.startup
        state = scope.get("state", {})
        self._activation = asyncio.create_task(self._activate(state), name="build-api")
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        if not self._activation.done():
            # Shutting down before the API was built: nothing of it is running yet.
            self._activation.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._activation
        try:
            if self._api_lifespan is not None:
                await self._api_lifespan.shutdown()
        except Exception as exc:
            await send({"type": "lifespan.shutdown.failed", "message": str(exc)})
            raise
        await send({"type": "lifespan.shutdown.complete"})

    async def _activate(self, state: dict[str, Any]) -> None:
        started = time.perf_counter()
        try:
            api = await _in_daemon_thread(self._build)
            lifespan = Lifespan(api, state)
            await lifespan.startup()
        except Exception:
            logger.critical("The app failed to build; the worker exits", exc_info=True)
            # Gunicorn's master halts on this status instead of booting the same failure again
            # and again. Exit at once: a forked worker with nothing of the API running has
            # nothing to shut down, and a SystemExit raised into the event loop would first
            # cancel every waiting request with tracebacks that bury this one.
            os._exit(Arbiter.WORKER_BOOT_ERROR)
        self._api_lifespan = lifespan
        self._api_probes = self._probe_stack(self._probes, api.state.metrics)
        self._api = api
        self._built.set()
        logger.info("API built in %.2f s", time.perf_counter() - started)


async def _in_daemon_thread(fn: Callable[[], T]) -> T:
    """fn() in a thread of its own. Not the default executor, whose threads the event loop joins
    when it closes: a worker told to stop while it builds exits at once, leaving the half-done
    build (imports, no I/O) to die with the process."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if future.done():  # cancelled: nobody waits for this build any more
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        try:
            result, error = fn(), None
        except BaseException as exc:
            result, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop closed: the worker is exiting
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=run, name="build-api", daemon=True).start()
    return await future


class Lifespan:
    """Runs an ASGI app's lifespan protocol as a server does: startup, then shutdown."""

    def __init__(self, app: ASGIApp, state: dict[str, Any]) -> None:
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        scope = {
            "type": "lifespan",
            "asgi": {"version": "3.0", "spec_version": "2.0"},
            "state": state,
        }
        self._task = asyncio.create_task(app(scope, self._to_app.get, self._from_app.put))

    async def startup(self) -> None:
        await self._exchange("startup")

    async def shutdown(self) -> None:
        await self._exchange("shutdown")
        await self._task

    async def _exchange(self, event: str) -> None:
        await self._to_app.put({"type": f"lifespan.{event}"})
        reply = asyncio.ensure_future(self._from_app.get())
        await asyncio.wait({reply, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if not reply.done():
            reply.cancel()
            self._task.result()  # the app's own exception, if it raised one
            raise RuntimeError(f"the app ended its lifespan without answering {event}")
        message = reply.result()
        if message["type"] != f"lifespan.{event}.complete":
            raise RuntimeError(f"lifespan {event} failed: {message.get('message', '')}")
