"""Idle live streams on one worker: what 1,000 open GET /api/events cost.

    .venv/bin/python -m bench.streams [--streams 1000] [--samples 400] [--db-name NAME]

DATABASE_URL names the PostgreSQL server; the script makes its own database there (dropped and
re-created), migrates it, starts one production-shaped server (gunicorn.conf.py, one worker),
and measures, before and while the streams are open: the worker's RSS, and the latency of
GET /health and of an anonymous job page (sequential requests from one client, so the figures
are the service's, not a queue's). Ratios against the run's own baseline are the figures to
read: this machine is shared and noisy. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from bench import load, prepare

USERS = 10
PASSWORD = "bench-streams-0123"  # noqa: S105 - a throwaway bench account


def _raise_open_files(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        # The server inherits it: each stream is one socket on both sides.
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(needed, soft)), hard))


async def _account(client: httpx.AsyncClient, n: int, role: str) -> dict[str, str]:
    body = {
        "email": f"{role}-{n}-{uuid.uuid4().hex[:6]}@bench.example",
        "password": PASSWORD,
        "full_name": f"Bench {role} {n}",
        "role": role,
    }
    address = {"X-Forwarded-For": f"198.18.0.{n + 1}"}
    response = await client.post("/api/auth/register", json=body, headers=address)
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _job(client: httpx.AsyncClient) -> int:
    employer = await _account(client, 200, "employer")
    company = await client.post(
        "/api/companies", json={"name": "Bench Marina", "island": "Abaco"}, headers=employer
    )
    company.raise_for_status()
    job = await client.post(
        "/api/jobs",
        json={
            "company_id": company.json()["id"],
            "title": "Dock Master",
            "description": "Run the fuel dock and the slips of a busy Marsh Harbour marina.",
            "location": "Marsh Harbour",
            "island": "Abaco",
            "category": "maritime_fishing",
            "employment_type": "full_time",
            "status": "published",
        },
        headers=employer,
    )
    job.raise_for_status()
    return int(job.json()["id"])


async def _latency(client: httpx.AsyncClient, path: str, samples: int) -> dict[str, float]:
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        response = await client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    times.sort()
    return {
        "p50": statistics.median(times),
        "p99": times[min(len(times) - 1, int(len(times) * 0.99))],
    }


async def _hold(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    opened: asyncio.Event,
    counter: list[int],
    total: int,
) -> None:
    async with client.stream("GET", "/api/events", headers=headers) as response:
        if response.status_code != 200:
            raise RuntimeError(f"stream refused: {response.status_code} {await response.aread()}")
        counter[0] += 1
        if counter[0] == total:
            opened.set()
        async for _ in response.aiter_lines():
            pass


async def _measure(
    client: httpx.AsyncClient, server: object, job_path: str, samples: int
) -> dict[str, object]:
    return {
        "rss_mb": load.worker_rss_mb(server),  # type: ignore[arg-type]
        "health": await _latency(client, "/health", samples),
        "job_page": await _latency(client, job_path, samples),
    }


async def run(args: argparse.Namespace) -> None:
    server_url = os.environ.get("DATABASE_URL")
    if not server_url:
        raise SystemExit("DATABASE_URL must name a PostgreSQL server")
    _raise_open_files(args.streams * 2 + 512)
    database = prepare.bench_database(server_url, args.db_name)
    await prepare.create_database(server_url, args.db_name, fresh=True)
    prepare.migrate(database)
    # The settings that differ from production, printed with their reasons below.
    overrides = {
        "EVENTS_MAX_STREAMS": str(args.streams + 10),
        "EVENTS_MAX_STREAMS_PER_USER": str(args.streams // USERS + 1),
        "GUNICORN_KEEPALIVE": "75",
    }
    print(
        "Overrides: EVENTS_MAX_STREAMS and EVENTS_MAX_STREAMS_PER_USER to admit the streams held "
        f"({overrides['EVENTS_MAX_STREAMS']}, and {overrides['EVENTS_MAX_STREAMS_PER_USER']} for "
        f"each of {USERS} accounts); GUNICORN_KEEPALIVE=75 so the latency client's keep-alive "
        "connection, idle while the streams open, is not closed under it"
    )
    env = {
        **prepare.app_env(database),
        **overrides,
        "REDIS_URL": os.environ.get("REDIS_URL", ""),
    }
    log_path = Path(tempfile.mkdtemp(prefix="bench-streams-")) / "server.log"
    server = load.start("app.main:app", env, log_path)
    tasks: list[asyncio.Task[None]] = []
    streams: httpx.AsyncClient | None = None
    try:
        load.wait_healthy(server)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
            users = [await _account(client, n, "job_seeker") for n in range(USERS)]
            job_path = f"/api/jobs/{await _job(client)}"
            await _latency(client, job_path, 50)  # warm up
            before = await _measure(client, server, job_path, args.samples)

            opened, counter = asyncio.Event(), [0]
            streams = httpx.AsyncClient(
                base_url=server.base_url,
                timeout=httpx.Timeout(60, read=None),
                limits=httpx.Limits(max_connections=None, max_keepalive_connections=0),
            )
            tasks = [
                asyncio.create_task(_hold(streams, users[i % USERS], opened, counter, args.streams))
                for i in range(args.streams)
            ]
            waiter = asyncio.create_task(opened.wait())
            done, _ = await asyncio.wait(
                [waiter, *tasks], timeout=120, return_when=asyncio.FIRST_COMPLETED
            )
            if waiter not in done:
                failed = next((t for t in done if t.exception()), None)
                raise RuntimeError(
                    f"only {counter[0]} streams opened: {failed and failed.exception()}"
                )
            await asyncio.sleep(2)  # let the worker settle with every stream idle
            during = await _measure(client, server, job_path, args.samples)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if streams is not None:
            await streams.aclose()
        server.stop()

    print(f"{args.streams} idle streams on one worker (server log: {log_path})")
    print(f"{'':24}{'before':>12}{'with streams':>14}{'ratio':>8}")
    print(
        f"{'worker RSS (MB)':24}{before['rss_mb']:>12.1f}{during['rss_mb']:>14.1f}"
        f"{during['rss_mb'] / before['rss_mb']:>8.2f}"  # type: ignore[operator]
    )
    for case in ("health", "job_page"):
        for stat in ("p50", "p99"):
            a = before[case][stat]  # type: ignore[index]
            b = during[case][stat]  # type: ignore[index]
            print(f"{f'GET {case} {stat} (ms)':24}{a:>12.2f}{b:>14.2f}{b / a:>8.2f}")
    per_stream = (during["rss_mb"] - before["rss_mb"]) * 1024 / args.streams  # type: ignore[operator]
    print(f"memory per idle stream: {per_stream:.1f} KB")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--db-name", default="hmb_bench_streams")
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
