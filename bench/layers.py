"""The per-layer profile: the CPU each layer of the one path costs a request, measured by
switching that layer off (from here, never by a switch in the app) and comparing.

    DATABASE_URL=<the bench's database> REDIS_URL=... .venv/bin/python -m bench.layers

Drives `create_app()` in process through ASGI (no HTTP server, no wrk: the server's own
parsing is the same in every row, and the bench measures it) with production settings, on
the request shapes below: `/health`, an anonymous job page the cache answers, and the signed-in
reads (`/api/users/me`, one of the seeker's applications, their notifications). Each row is
the median over `--repeats` of the process CPU time of `--requests` requests, one at a time;
"cost" is the full row minus the row without that layer. Rows marked "inside" are measured
the other way, as the CPU spent within that step (FastAPI's dependency solving cannot be
switched off, only timed). Uses the data of a `python3 tasks.py bench` run (its database,
`--db-name`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import statistics
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from fastapi import FastAPI

Scope = dict[str, Any]


def _scope(path: str, headers: list[tuple[bytes, bytes]]) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"localhost"), *headers],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 10000),
    }


async def _call(app: FastAPI, scope: Scope) -> int:
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(dict(scope, headers=list(scope["headers"])), receive, send)
    return status


async def _warm(app: FastAPI, scopes: list[Scope]) -> None:
    for scope in scopes[:200]:  # caches filled, statements built
        status = await _call(app, scope)
        if status != 200:
            raise SystemExit(f"{scope['path']} answered {status}")


async def _cpu_per_request(app: FastAPI, scopes: list[Scope], requests: int) -> float:
    started = time.process_time()
    for i in range(requests):
        await _call(app, scopes[i % len(scopes)])
        # An iteration of the loop per request, as a server gives it: what the app does at
        # the end of one (the access lines' write) is counted too.
        await asyncio.sleep(0)
    return (time.process_time() - started) / requests * 1e6


async def _cost(
    app: FastAPI,
    scopes: list[Scope],
    off: Callable[[], contextlib.AbstractContextManager[None]],
    requests: int,
    repeats: int,
) -> tuple[float, float]:
    """(CPU per request without the layer, what it costs): every layer on and this one off
    measured in turn, `repeats` times, so that a drift of the machine hits both alike."""
    await _warm(app, scopes)
    full, without = [], []
    for _ in range(repeats):
        full.append(await _cpu_per_request(app, scopes, requests))
        with off():
            await _warm(app, scopes[:20])
            without.append(await _cpu_per_request(app, scopes, requests))
    return statistics.median(without), statistics.median(
        f - w for f, w in zip(full, without, strict=True)
    )


def _without_middleware(app: FastAPI, name: str) -> Callable[[], None]:
    kept = app.user_middleware
    app.user_middleware = [m for m in kept if m.cls.__name__ != name]  # type: ignore[attr-defined]  # starlette's Middleware.cls is typed loosely
    app.middleware_stack = None

    def restore() -> None:
        app.user_middleware = kept
        app.middleware_stack = None

    return restore


@contextlib.contextmanager
def _patched(target: Any, name: str, value: Any) -> Iterator[None]:
    old = getattr(target, name)
    setattr(target, name, value)
    try:
        yield
    finally:
        setattr(target, name, old)


def _layers(
    app: FastAPI,
) -> list[tuple[str, Callable[[], contextlib.AbstractContextManager[None]]]]:
    """(layer, a context in which it is off). Everything here is from outside the app."""
    from app.core import http_cache
    from app.core.cache import Cache
    from app.core.logging import AccessLog

    @contextlib.contextmanager
    def no_middleware(name: str) -> Iterator[None]:
        restore = _without_middleware(app, name)
        try:
            yield
        finally:
            restore()

    rows: list[tuple[str, Callable[[], contextlib.AbstractContextManager[None]]]] = [
        (f"middleware {m.cls.__name__}", lambda n=m.cls.__name__: no_middleware(n))  # type: ignore[attr-defined,misc]  # see above
        for m in app.user_middleware
    ]
    rows.append(("access line", lambda: _patched(AccessLog, "write", lambda *a, **k: None)))
    metrics = app.state.services.metrics
    rows.append(("metrics", lambda: _patched(metrics, "observe", lambda *a, **k: None)))
    rows.append(("ETag", lambda: _patched(http_cache, "etag_of", lambda body: '"x"')))
    held: dict[tuple[str, str], Any] = {}
    real_lookup = Cache.lookup

    async def remembered(self: Cache, namespace: str, key: str) -> Any:
        if (namespace, key) not in held:
            held[namespace, key] = await real_lookup(self, namespace, key)
        return held[namespace, key]

    rows.append(("cache lookup (Redis)", lambda: _patched(Cache, "lookup", remembered)))
    return rows


def _database_rows(
    app: FastAPI,
) -> list[tuple[str, Callable[[], contextlib.AbstractContextManager[None]]]]:
    """The signed-in path's layers, patched where the app looks them up (FastAPI's
    dependency_overrides would cost more per request than what they replace)."""
    import fastapi.routing

    from app.applications import detail as applications
    from app.core.db.database import Database
    from app.identity import deps
    from app.notifications import service as notifications

    kept: dict[str, Any] = {}
    real_session = Database.session

    @contextlib.asynccontextmanager
    async def kept_session(self: Database, **options: Any) -> AsyncIterator[Any]:
        # One session for every request, its connection held: no AsyncSession made or closed,
        # no checkout or return of a connection per request.
        if "session" not in kept:
            kept["context"] = real_session(self, **options)
            kept["session"] = await kept["context"].__aenter__()
        yield kept["session"]

    @contextlib.contextmanager
    def session_kept() -> Iterator[None]:
        with _patched(Database, "session", kept_session):
            try:
                yield
            finally:
                if "context" in kept:
                    asyncio.get_running_loop().create_task(
                        kept.pop("context").__aexit__(None, None, None)
                    )
                    kept.pop("session")

    claims_held: dict[str, Any] = {}
    real_decode = deps.decode_access_token

    def held_claims(settings: Any, token: str) -> Any:
        if token not in claims_held:
            claims_held[token] = real_decode(settings, token)
        return claims_held[token]

    def remembered(real: Callable[..., Any]) -> Callable[..., Any]:
        held: dict[Any, Any] = {}

        async def call(session: Any, *args: Any, **kwargs: Any) -> Any:
            key = repr((args, sorted(kwargs.items())))
            if key not in held:
                held[key] = await real(session, *args, **kwargs)
            return held[key]

        return call

    async def serialised(**_: Any) -> bytes:
        return b"{}"

    rows = [
        ("session made, checkout, close (one kept)", session_kept),
        (
            "token verification (decode_access_token)",
            lambda: _patched(deps, "decode_access_token", held_claims),
        ),
        *_caller_reads(deps, remembered),
        (
            "route's statement: an application",
            lambda: _patched(
                applications, "get_application", remembered(applications.get_application)
            ),
        ),
        (
            "route's statement: notifications",
            lambda: _patched(
                notifications, "list_notifications", remembered(notifications.list_notifications)
            ),
        ),
        (
            "response validation + serialisation (FastAPI)",
            lambda: _patched(fastapi.routing, "serialize_response", serialised),
        ),
    ]
    return rows


def _caller_reads(
    deps: Any, remembered: Callable[[Callable[..., Any]], Callable[..., Any]]
) -> list[tuple[str, Callable[[], contextlib.AbstractContextManager[None]]]]:
    """The caller's SELECT of each signed-in dependency, answered from memory: the `read` of
    the one node that also reads the token, or (in checkouts before it) the module's function
    that node called."""
    rows: list[tuple[str, Callable[[], contextlib.AbstractContextManager[None]]]] = []
    for alias, reader in (
        ("CurrentUser", "_caller_of"),
        ("CurrentAccount", "_account_of"),
        ("CurrentProfile", "_profile_of"),  # GET /api/users/me's since issue 23's signed-in round
    ):
        if not hasattr(deps, alias):
            continue
        node = deps.__dict__[alias].__metadata__[0].dependency
        if hasattr(node, "read"):
            rows.append(
                (
                    f"caller's SELECT ({alias})",
                    lambda n=node: _patched(n, "read", remembered(n.read)),
                )
            )
        else:
            rows.append(
                (
                    f"caller's SELECT ({alias})",
                    lambda r=reader: _patched(deps, r, remembered(getattr(deps, r))),
                )
            )
    return rows


async def _inside_solving(app: FastAPI, scopes: list[Scope], requests: int) -> float:
    """CPU per request spent inside FastAPI's dependency solving: every node, its own work
    (the session made, the token, the caller's SELECT, the page) included."""
    import fastapi.routing

    real = fastapi.routing.solve_dependencies
    spent = 0.0

    async def timed(**kwargs: Any) -> Any:
        nonlocal spent
        started = time.process_time()
        try:
            return await real(**kwargs)
        finally:
            spent += time.process_time() - started

    await _warm(app, scopes)
    with _patched(fastapi.routing, "solve_dependencies", timed):
        for i in range(requests):
            await _call(app, scopes[i % len(scopes)])
            await asyncio.sleep(0)
    return spent / requests * 1e6


def _nodes(app: FastAPI, path: str) -> int:
    """The dependency nodes FastAPI solves for the route of `path` (each once: the cache)."""
    from fastapi.routing import APIRoute
    from starlette.routing import Match

    for route in app.router.routes:
        if isinstance(route, APIRoute) and route.matches(_scope(path, []))[0] == Match.FULL:
            seen: set[Any] = set()
            pending = list(route.dependant.dependencies)
            while pending:
                node = pending.pop()
                if node.cache_key not in seen:
                    seen.add(node.cache_key)
                    pending.extend(node.dependencies)
            return len(seen)
    return 0


async def profile(args: argparse.Namespace) -> None:
    from sqlalchemy import select

    from app.applications.models import Application
    from app.core import security
    from app.core.security import create_access_token
    from app.identity.models import User
    from app.main import create_app

    app = create_app()
    services = app.state.services
    async with app.router.lifespan_context(app):
        await asyncio.sleep(0.5)  # the Redis connect, a background task of the lifespan
        async with services.database.session(read_only=True) as session:
            # A seeker with applications (and so, from the seed, notifications of them).
            applicant_id, application_id = (
                await session.execute(
                    select(Application.applicant_id, Application.id)
                    .order_by(Application.id)
                    .limit(1)
                )
            ).one()
            user = await session.get(User, applicant_id)
            applications = list(
                (
                    await session.scalars(
                        select(Application.id).where(Application.applicant_id == applicant_id)
                    )
                ).all()
            )
            ids = list((await session.execute(select_ids())).scalars().all())
        assert user is not None and application_id in applications
        token, _ = create_access_token(
            services.settings, user_id=user.id, role=user.role, token_version=user.token_version
        )
        bearer = [(b"authorization", f"Bearer {token}".encode())]
        shapes = {
            "/health": [_scope("/health", [])],
            "job page (anonymous, cached)": [_scope(f"/api/jobs/{i}", []) for i in ids[:200]],
            "job page (anonymous, cached), gzip accepted": [
                _scope(f"/api/jobs/{i}", [(b"accept-encoding", b"gzip, deflate")])
                for i in ids[:200]
            ],
            "/api/users/me": [_scope("/api/users/me", bearer)],
            "/api/applications/{id}": [
                _scope(f"/api/applications/{i}", bearer) for i in applications
            ],
            "/api/notifications": [_scope("/api/notifications", bearer)],
        }
        layers = _layers(app) + _database_rows(app)
        started = time.process_time()
        for _ in range(args.requests):
            security._verified_claims.__wrapped__(
                services.settings.secret_key,
                services.settings.jwt_audience,
                services.settings.jwt_issuer,
                token,
            )
        uncached = (time.process_time() - started) / args.requests * 1e6
        print(f"a PyJWT verification of the token, uncached (as the floor's): {uncached:.0f} us")
        for shape, scopes in shapes.items():
            if args.shapes and shape not in args.shapes:
                continue
            await _warm(app, scopes)
            full = statistics.median(
                [await _cpu_per_request(app, scopes, args.requests) for _ in range(args.repeats)]
            )
            solving = statistics.median(
                [await _inside_solving(app, scopes, args.requests) for _ in range(args.repeats)]
            )
            nodes = _nodes(app, scopes[0]["path"])
            print(f"\n{shape}: {full:.0f} us CPU per request, every layer on")
            print(f"  inside FastAPI's dependency solving ({nodes} nodes): {solving:.0f} us")
            print(f"  {'layer switched off':50} {'us/req':>8} {'cost':>8}")
            for layer, off in layers:
                if args.layers and not any(word in layer for word in args.layers):
                    continue
                try:
                    without, cost = await _cost(app, scopes, off, args.requests, args.repeats)
                except SystemExit as exc:
                    print(f"  {layer:50} {'n/a':>8} ({exc})")
                    continue
                print(f"  {layer:50} {without:8.0f} {cost:8.0f}", flush=True)


def select_ids() -> Any:
    from sqlalchemy import select

    from app.jobs.models import Job
    from app.jobs.service import live_clause

    return select(Job.id).where(live_clause()).order_by(Job.id).limit(500)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.layers", description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--shapes", nargs="*", help="only these shapes (their names)")
    parser.add_argument("--layers", nargs="*", help="only the layers whose name has one of these")
    args = parser.parse_args()
    os.environ.setdefault("ENVIRONMENT", "production")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
    os.environ.setdefault("ALLOWED_ORIGINS", "https://hiremebahamas.com")
    os.environ.setdefault("SMTP_HOST", "smtp.invalid")
    os.environ.setdefault("RATE_LIMIT_PER_MINUTE", "1000000")
    asyncio.run(profile(args))


if __name__ == "__main__":
    main()
