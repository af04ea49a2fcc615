"""Servers at a distance, and the round trips their requests make (the neon-* cases, bench/neon.py).

`proxies(bench)` starts delay proxies (bench/delay.py) in front of PostgreSQL and Redis and
the service and the database floor behind them: both reach PostgreSQL and Redis only through
the proxies. `counted_run` is one wrk run with the proxies' counters read before and after
(the worker idle both times), so a request's round trips are (counter delta) / (requests
served). The service's requests served are its access lines (every request it finished,
those wrk gave up on at the end included); the floor writes none, so its figure divides by
wrk's count (at most one request per connection too few: slightly high).

`probes` sends single requests one at a time (a job page no run has asked for: a miss, then
the same again: a hit; a signed-in /api/users/me) and counts each one's round trips up to its
response, then what follows in the next 0.3 s apart (the rate limit's counts reach Redis in a
flush 0.1 s after a request: background work, not the request's wait).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any, Protocol

import httpx
from sqlalchemy.engine import make_url

from bench import load
from bench.delay import DelayProxy
from bench.wire import Counts, PostgresWire, RedisWire
from tests.support.server_process import ServerProcess

if TYPE_CHECKING:
    from bench.run import Bench

PROBE_PAUSE = 0.3  # seconds after a probe's response: its background work (the limit's flush)
APP, FLOOR = "neon_app", "neon_floor"


class LoadCase(Protocol):
    """The loopback case a distance case drives the same way (bench/run.py's Case)."""

    label: str
    script: str
    path: str
    args: tuple[str, ...]


def _through(url: str, port: int) -> str:
    return make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


def _upstream(url: str, default_port: int) -> tuple[str, int]:
    parsed = make_url(url)
    return parsed.host or "127.0.0.1", parsed.port or default_port


@contextmanager
def proxies(bench: Bench) -> Iterator[dict[str, DelayProxy]]:
    """The delay proxies, and the neon servers started behind them (stopped on exit)."""
    args, env = bench.args, bench.env_for("app")
    with ExitStack() as stack:
        found = {
            "db": stack.enter_context(
                DelayProxy(
                    _upstream(env["DATABASE_URL"], 5432),
                    delay=args.pg_delay_ms / 1000,
                    wire=PostgresWire,
                )
            )
        }
        app_env = {
            **env,
            "DATABASE_URL": _through(env["DATABASE_URL"], found["db"].port),
            "DB_PGBOUNCER": args.neon_pgbouncer,  # production's (render.yaml) by default
            # Production's direct endpoint, for the LISTEN connection (as render.yaml sets it),
            # at the same distance.
            "MIGRATION_DATABASE_URL": _through(env["DATABASE_URL"], found["db"].port),
        }
        if env.get("REDIS_URL"):
            found["redis"] = stack.enter_context(
                DelayProxy(
                    _upstream(env["REDIS_URL"], 6379),
                    delay=args.redis_delay_ms / 1000,
                    wire=RedisWire,
                )
            )
            app_env["REDIS_URL"] = _through(env["REDIS_URL"], found["redis"].port)
        floor_env = bench.env_for("floor_db")
        floor_env["BENCH_DSN"] = _through(floor_env["BENCH_DSN"], found["db"].port)
        floor_env["BENCH_POOL_RESET"] = "off"  # a round trip per request the service does not make
        bench.servers[APP] = load.start("app.main:app", app_env, bench.out / f"{APP}.log")
        bench.servers[FLOOR] = load.start(
            "bench.floors.db:app", floor_env, bench.out / f"{FLOOR}.log"
        )
        try:
            for key in (APP, FLOOR):
                load.wait_healthy(bench.servers[key])
            yield found
        finally:
            for key in (APP, FLOOR):
                bench.servers.pop(key).stop()


def _snapshot(found: dict[str, DelayProxy]) -> dict[str, Counts]:
    return {name: proxy.counts() for name, proxy in found.items()}


def _served(server: ServerProcess) -> int:
    """Requests the service finished so far: its access lines."""
    return server.log().count('"logger":"app.access"')


def _per_request(used: dict[str, Counts], requests: int) -> dict[str, Any]:
    out: dict[str, Any] = {"requests": requests}
    for name, counts in used.items():
        out[name] = counts.as_dict()
        out[f"{name}_round_trips_per_request"] = counts.round_trips / max(requests, 1)
    return out


def counted_run(
    bench: Bench, found: dict[str, DelayProxy], server: str, case: LoadCase, duration: int
) -> tuple[load.Run, dict[str, Any]]:
    """One wrk run and the round trips it caused; the worker is idle before and after."""
    process = bench.servers[server]
    before, served = _snapshot(found), _served(process)
    run = bench.run(server, case.script, case.path, bench.args.connections, duration, case.args)
    load.settle(process)
    used = {name: counts - before[name] for name, counts in _snapshot(found).items()}
    requests = _served(process) - served if server == APP else run.requests
    return run, _per_request(used, requests)


def _probe_one(found: dict[str, DelayProxy], url: str, headers: dict[str, str]) -> dict[str, Any]:
    time.sleep(PROBE_PAUSE)  # what earlier requests left to do in the background is done
    before = _snapshot(found)
    reply = httpx.get(url, headers=headers, timeout=30)
    answered = _snapshot(found)
    time.sleep(PROBE_PAUSE)
    after = _snapshot(found)
    return {
        "status": reply.status_code,
        "until_response": _per_request({k: answered[k] - before[k] for k in found}, 1),
        "after_response": _per_request({k: after[k] - answered[k] for k in found}, 1),
    }


def _unrequested_job_ids(base: str, known: set[str], count: int) -> list[str]:
    """Live job ids that no earlier run asked the job page of: the listing past job_ids.txt."""
    found: list[str] = []
    cursor = None
    while len(found) < count:
        params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = httpx.get(f"{base}/api/jobs", params=params, timeout=30).raise_for_status().json()
        found += [str(j["id"]) for j in page["items"] if str(j["id"]) not in known]
        cursor = page["next_cursor"]
        if not cursor:
            break
    return found[:count]


def prime_job_pages(bench: Bench) -> None:
    """Ask every job page of job_ids.txt once, so the load starts from a warm response cache
    (entries then expire after their TTL as they would in production)."""
    with httpx.Client(base_url=bench.servers[APP].base_url, timeout=30) as client:
        for job in (bench.data / "job_ids.txt").read_text().split():
            client.get(f"/api/jobs/{job}").raise_for_status()


def probes(bench: Bench, found: dict[str, DelayProxy]) -> dict[str, Any]:
    """Single requests, one at a time: a job page never asked for and the same again (a miss and
    a hit, unless the cache was flushed meanwhile), a signed-in read."""
    base = bench.servers[APP].base_url
    out: dict[str, Any] = {}
    if "jobs" in bench.available:
        known = set((bench.data / "job_ids.txt").read_text().split())
        for i, job in enumerate(_unrequested_job_ids(base, known, 3)):
            # Expected a miss, then a hit: the counts say which it was (a flushed cache, an
            # entry that expired, would show).
            out[f"job page {i + 1}, first ask"] = _probe_one(found, f"{base}/api/jobs/{job}", {})
            out[f"job page {i + 1}, again"] = _probe_one(found, f"{base}/api/jobs/{job}", {})
    if "signed_in" in bench.available:
        tokens = [line.split()[0] for line in (bench.data / "seekers.txt").read_text().splitlines()]
        for i, token in enumerate(tokens[:3]):
            out[f"/api/users/me {i + 1}"] = _probe_one(
                found, f"{base}/api/users/me", {"Authorization": f"Bearer {token}"}
            )
    return out
