"""The per-layer profile: the CPU each layer of the one path costs a request, measured by
switching that layer off (from here, never by a switch in the app) and comparing.

    DATABASE_URL=<the bench's database> REDIS_URL=... .venv/bin/python -m bench.layers

Drives `create_app()` in process through ASGI (no HTTP server, no wrk: the server's own
parsing is the same in every row, and the bench measures it) with production settings, on
three requests: `/health`, an anonymous job page the cache answers, and `/api/users/me`
signed in. Each row is the median over `--repeats` of the process CPU time of `--requests`
requests, one at a time; "cost" is the full row minus the row without that layer. Uses the
data of a `python3 tasks.py bench` run (its database, `--db-name`).
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
    """The session and the caller's row, patched where the app looks them up (FastAPI's
    dependency_overrides would cost more per request than what they replace)."""
    from app.core.db.database import Database
    from app.identity import deps

    @contextlib.asynccontextmanager
    async def no_session(self: Any, **_: Any) -> AsyncIterator[None]:
        yield None

    async def known_user(session: Any, claims: Any) -> Any:
        return app.state.bench_user

    return [
        ("session made (Database.session)", lambda: _patched(Database, "session", no_session)),
        ("CurrentUser's row (query, ORM User)", lambda: _patched(deps, "_account_of", known_user)),
    ]


async def profile(args: argparse.Namespace) -> None:
    from sqlalchemy import select

    from app.core.security import create_access_token
    from app.identity.models import User
    from app.main import create_app

    app = create_app()
    services = app.state.services
    async with app.router.lifespan_context(app):
        await asyncio.sleep(0.5)  # the Redis connect, a background task of the lifespan
        async with services.database.session(read_only=True) as session:
            user = (await session.scalars(select(User).where(User.role == "job_seeker"))).first()
            ids = list((await session.execute(select_ids())).scalars().all())
        assert user is not None
        token, _ = create_access_token(
            services.settings, user_id=user.id, role=user.role, token_version=user.token_version
        )
        shapes = {
            "/health": [_scope("/health", [])],
            "job page (anonymous, cached)": [_scope(f"/api/jobs/{i}", []) for i in ids[:200]],
            "job page (anonymous, cached), gzip accepted": [
                _scope(f"/api/jobs/{i}", [(b"accept-encoding", b"gzip, deflate")])
                for i in ids[:200]
            ],
            "/api/users/me": [
                _scope("/api/users/me", [(b"authorization", f"Bearer {token}".encode())])
            ],
        }
        layers = _layers(app) + _database_rows(app)
        app.state.bench_user = user
        for shape, scopes in shapes.items():
            if args.shapes and shape not in args.shapes:
                continue
            await _warm(app, scopes)
            full = statistics.median(
                [await _cpu_per_request(app, scopes, args.requests) for _ in range(args.repeats)]
            )
            print(f"\n{shape}: {full:.0f} us CPU per request, every layer on")
            print(f"  {'layer switched off':45} {'us/req':>8} {'cost':>8}")
            for layer, off in layers:
                if args.layers and not any(word in layer for word in args.layers):
                    continue
                try:
                    without, cost = await _cost(app, scopes, off, args.requests, args.repeats)
                except SystemExit as exc:
                    print(f"  {layer:45} {'n/a':>8} ({exc})")
                    continue
                print(f"  {layer:45} {without:8.0f} {cost:8.0f}", flush=True)


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
