"""The cases at Neon's distance: what the loopback bench cannot see, a design that multiplies
round trips. In production PostgreSQL is Neon over the network (~1 ms each way in the same
region) and Redis a separate service (~0.5 ms each way); here the service and its floor reach
both only through delay proxies, and every run reports the round trips per request counted on
the wire (bench/distance.py, bench/delay.py, bench/wire.py).

    python3 tasks.py bench --only neon-job neon-me neon-mixed [--pg-delay-ms 1 --redis-delay-ms 0.5]

`neon-job` (GET /api/jobs/{id}) and `neon-me` (GET /api/users/me, signed in) run against the
database floor through the same proxy; `neon-mixed` is the mixed day (no floor). The targets
from issue 23 are reported, never asserted: a cached public read makes 0 database round trips
and at most 1 to Redis, a signed-in read at most 2 to the database, and the service serves at
least half its floor's req/s through the same proxies.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bench import distance, load
from bench.tables import table

if TYPE_CHECKING:
    from bench.run import Bench

# Each case drives a loopback case's wrk script the same way (bench/run.py's CASES, or below).
CASES = {"neon-job": "job", "neon-me": "me", "neon-mixed": "mixed"}
NEEDS = {
    "neon-job": {"jobs"},
    "neon-me": {"jobs", "signed_in"},
    "neon-mixed": {"jobs", "signed_in"},
}
FLOORED = ("neon-job", "neon-me")
RATIO_TARGET = 0.5
# (database, Redis) round trips per request at most, from the issue; None: no target.
ROUND_TRIP_TARGETS: dict[str, tuple[float | None, float | None]] = {
    "neon-job": (0, 1),
    "neon-me": (2, None),
}


@dataclass(frozen=True)
class _Script:
    label: str
    script: str
    path: str = "/"
    args: tuple[str, ...] = ()


MIXED = _Script("mixed day (70% browse, 25% signed-in reads, 5% writes)", "mixed.lua")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pg-delay-ms", type=float, default=1.0, help="one-way delay to PostgreSQL (neon-*)"
    )
    parser.add_argument(
        "--redis-delay-ms", type=float, default=0.5, help="one-way delay to Redis (neon-*)"
    )
    parser.add_argument(
        "--neon-pgbouncer",
        choices=("true", "false"),
        default="true",
        help="the neon-* service's DB_PGBOUNCER: true as render.yaml sets it for Neon's pooler "
        "(no statement cache: each statement unnamed, prepared then run); false: direct",
    )


def selected(args: argparse.Namespace) -> list[str]:
    return [name for name in CASES if not args.only or name in args.only]


def wants(args: argparse.Namespace, need: str) -> bool:
    """Whether a selected case needs "jobs" or "signed_in" (prepared through the capture)."""
    return any(need in NEEDS[name] for name in selected(args))


def _servers(name: str) -> dict[str, str]:
    """{"floor": server, "app": server} for a case: the floor runs first in each round."""
    app = {"app": distance.APP}
    return {"floor": distance.FLOOR, **app} if name in FLOORED else app


def measure(bench: Bench, loopback: dict[str, distance.LoadCase]) -> dict[str, Any]:
    """The probes, a warm-up, then the rounds of every selected case that has its data."""
    args = bench.args
    names = [n for n in selected(args) if NEEDS[n] <= bench.available]
    if not names:
        return {}
    cases = {n: loopback.get(CASES[n], MIXED) for n in names}
    raw: dict[str, dict[str, list[Any]]] = {n: {k: [] for k in _servers(n)} for n in names}
    with distance.proxies(bench) as found:
        probes = distance.probes(bench, found)
        if "neon-job" in names:
            distance.prime_job_pages(bench)
        print(f"Neon's distance: warm-up, {args.warmup:g} s per server and case", flush=True)
        for name in names:
            case = cases[name]
            for server in _servers(name).values():
                bench.run(server, case.script, case.path, args.connections, args.warmup, case.args)
        for round_no in range(1, args.rounds + 1):
            for name in names:
                for key, server in _servers(name).items():
                    raw[name][key].append(
                        distance.counted_run(bench, found, server, cases[name], args.duration)
                    )
                app = raw[name]["app"][-1]
                print(
                    f"round {round_no} {name}: {app[0].rps:,.0f} req/s, database "
                    f"{app[1]['db_round_trips_per_request']:.2f} round trips per request",
                    flush=True,
                )
        errors = {k: p.errors for k, p in found.items() if p.errors}
    return {
        "delays_ms": {"db": args.pg_delay_ms, "redis": args.redis_delay_ms},
        "db_pgbouncer": args.neon_pgbouncer,
        "probes": probes,
        "cases": {n: summarise(n, cases[n].label, raw[n], probes) for n in names},
        "proxy_errors": errors,
    }


def _figures(runs: list[tuple[load.Run, dict[str, Any]]]) -> dict[str, Any]:
    wire = [w for _, w in runs]
    out = {**load.figures([r for r, _ in runs]), "wire": wire}
    for key in ("db", "redis"):
        found = [w for w in wire if key in w]
        out[f"{key}_round_trips_per_request"] = (
            load.median([w[f"{key}_round_trips_per_request"] for w in found]) if found else None
        )
        # How late the proxy delivered (a busy machine adds this to every one-way delay).
        out[f"{key}_lateness_ms"] = (
            load.median([w[key]["mean_lateness_ms"] for w in found]) if found else None
        )
    return out


def _judged_probes(name: str, probes: dict[str, Any]) -> list[dict[str, Any]]:
    """The single requests (distance.probes) a case's round-trip targets are judged on: a cached
    public read is a job page asked again; a signed-in read is /api/users/me after the first,
    which looks up asyncpg's codec for varchar[] once per connection. The loaded runs' averages
    are reported beside them: they add the misses of pages not cached yet and the pool's ping of
    each connection left idle by the pause before a round."""
    if name == "neon-job":
        return [p for k, p in probes.items() if k.endswith(", again")]
    if name == "neon-me":
        return [p for k, p in probes.items() if k.startswith("/api/users/me")][1:]
    return []


def _worst(probes: list[dict[str, Any]], key: str) -> int | None:
    found = [p["until_response"][key]["round_trips"] for p in probes if key in p["until_response"]]
    return max(found) if found else None


def summarise(
    name: str, label: str, raw: dict[str, list[Any]], probes: dict[str, Any]
) -> dict[str, Any]:
    app = _figures(raw["app"])
    out: dict[str, Any] = {"label": label, "app": app, "floor": None, "ratio": None}
    db_max, redis_max = ROUND_TRIP_TARGETS.get(name, (None, None))
    meets = {}
    if raw.get("floor"):
        out["floor"] = _figures(raw["floor"])
        ratios = [a.rps / f.rps for (a, _), (f, _) in zip(raw["app"], raw["floor"], strict=True)]
        out["ratios"], out["ratio"] = ratios, load.median(ratios)
        meets[f"req/s >= {RATIO_TARGET:g} x floor"] = out["ratio"] >= RATIO_TARGET
    judged = _judged_probes(name, probes)
    for key, most, what in (("db", db_max, "database"), ("redis", redis_max, "Redis")):
        worst = _worst(judged, key)
        if most is not None and worst is not None:
            meets[f"{what} <= {most:g} (single requests: {worst})"] = worst <= most
    out["targets"] = meets
    return out


def _rt(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def report(result: dict[str, Any]) -> str:
    if not result:
        return ""
    rows = []
    for c in result["cases"].values():
        app, floor = c["app"], c["floor"]
        rows.append(
            [
                c["label"],
                f"{floor['rps']:,.0f}" if floor else "",
                f"{app['rps']:,.0f}",
                _rt(c["ratio"]),
                f"{app['p50_ms']:.1f}",
                f"{app['p99_ms']:.1f}",
                (f"{_rt(floor['db_round_trips_per_request'])} -> " if floor else "")
                + _rt(app["db_round_trips_per_request"]),
                _rt(app["redis_round_trips_per_request"]),
                f"{app['non_2xx']}/{app['socket_errors']}",
                f"{_rt(app['db_lateness_ms'])}/{_rt(app['redis_lateness_ms'])}",
                ", ".join(f"{k}: {'yes' if ok else 'NO'}" for k, ok in c["targets"].items()),
            ]
        )
    delays = result["delays_ms"]
    header = [
        f"at Neon's distance (one way: database {delays['db']:g} ms, Redis {delays['redis']:g} "
        f"ms; DB_PGBOUNCER={result['db_pgbouncer']})",
        "floor req/s",
        "service req/s",
        "ratio",
        "p50 ms",
        "p99 ms",
        "database round trips/req (floor -> service)",
        "Redis round trips/req",
        "non-2xx/sock",
        "proxies late ms (db/redis)",
        "targets (reported, not asserted)",
    ]
    probe_rows = [
        [
            name,
            str(p["status"]),
            *(
                _probe_cell(p[when], key)
                for when in ("until_response", "after_response")
                for key in ("db", "redis")
            ),
        ]
        for name, p in result["probes"].items()
    ]
    probe_header = [
        "one request at a time",
        "status",
        "database until the response",
        "Redis until the response",
        "database after it (0.3 s)",
        "Redis after it (0.3 s)",
    ]
    errors = [f"proxy {k}: {e}" for k, found in result["proxy_errors"].items() for e in found]
    return "\n\n".join([table(header, rows), table(probe_header, probe_rows), *errors[:20]])


def _probe_cell(counts: dict[str, Any], key: str) -> str:
    """Round trips, then the messages (PostgreSQL types) or commands (Redis) that made them."""
    if key not in counts:
        return ""
    found = counts[key]
    messages = " ".join(f"{k}x{n}" if n > 1 else k for k, n in found["messages"].items())
    return f"{found['round_trips']} ({messages})" if messages else str(found["round_trips"])
