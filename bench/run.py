"""The benchmark: the service against its floors, in one run, on one machine.

    python3 tasks.py bench [options]        (or: .venv/bin/python -m bench.run [options])

DATABASE_URL names the PostgreSQL server (tasks.py starts an embedded one without it); the
benchmark makes its own database there (`--db-name`, dropped and re-created unless
`--reuse-db`), migrates it, seeds it, and starts every server with `gunicorn -c
gunicorn.conf.py`, one worker, ENVIRONMENT=production, a real SECRET_KEY and BCRYPT_ROUNDS=12,
the app's JSON access log on (written to a file). wrk drives each case against its floor and
the service in turn, for several rounds; each ratio is the median over the rounds. It prints a
table and writes bench/results/bench-<time>.json. Timings never go in the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import secrets
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench import load, prepare
from tests.server_process import ServerProcess

RESULTS = Path(__file__).resolve().parent / "results"
OLD_TARGETS = "old service: health < 5 ms, API p50 < 150 ms and p99 < 700 ms, memory < 400 MB"


SESSION_FLOOR = "floor + the session's round trips (pre-ping, BEGIN, COMMIT)"

# Ten connections for the hot reads, as the floor's asyncpg pool has ten, and ten kept open for
# sessions (sign-in). With the default 5 + 5 overflow, SQLAlchemy's pool closes an overflow
# connection each time one comes back to five idle ones, so 64 connections of load reconnect
# ~30 times a second (see the README): that measures connection churn, not the request path.
POOL_ENV = {"DB_READ_POOL_SIZE": "10", "DB_POOL_SIZE": "10", "DB_MAX_OVERFLOW": "0"}


@dataclass(frozen=True)
class Case:
    name: str
    label: str
    script: str
    path: str
    floor: str  # the server that is this case's floor
    target: float
    needs: str | None = None  # "jobs" or "login": skipped when the service lacks them
    # Other (label, server, path, script arguments) measured against the same floor, for
    # information (no target).
    variants: tuple[tuple[str, str, str, tuple[str, ...]], ...] = ()


CASES = [
    Case(
        "health",
        "GET /health",
        "get.lua",
        "/health",
        "floor_health",
        0.5,
        variants=(
            ("FastAPI plain def /health (threadpool)", "fastapi", "/health", ()),
            ("FastAPI async def /health", "fastapi", "/health-async", ()),
            ("service without its access line (LOG_LEVEL=WARNING)", "app_quiet", "/health", ()),
        ),
    ),
    Case(
        "job",
        "GET /api/jobs/{id}",
        "job.lua",
        "/api/jobs",
        "floor_db",
        0.5,
        needs="jobs",
        variants=(
            (SESSION_FLOOR, "floor_db", "/session/api/jobs", ()),
            ("bare FastAPI route, same path, no database", "fastapi", "/api/jobs", ()),
        ),
    ),
    Case(
        "search",
        "GET /api/jobs?q=&island=",
        "search.lua",
        "/api/jobs",
        "floor_db",
        0.5,
        needs="jobs",
        variants=(
            (SESSION_FLOOR, "floor_db", "/session/api/jobs", ()),
            ("one query repeated (cache hits)", "app", "/api/jobs", ("search_repeated.txt",)),
        ),
    ),
    Case("login", "POST /api/auth/login", "login.lua", "/", "floor_bcrypt", 0.8, needs="login"),
]

SERVERS = {
    "app": "app.main:app",
    "app_quiet": "app.main:app",  # the same service with LOG_LEVEL=WARNING: no access lines
    "floor_health": "bench.floors.health:app",
    "fastapi": "bench.floors.fastapi_app:app",
    "floor_db": "bench.floors.db:app",
    "floor_bcrypt": "bench.floors.bcrypt_app:app",
}


@dataclass
class Bench:
    args: argparse.Namespace
    out: Path
    data: Path
    env: dict[str, str]
    password_hash: str = ""
    available: set[str] = field(default_factory=set)
    servers: dict[str, ServerProcess] = field(default_factory=dict)

    def start_servers(self, extra: dict[str, dict[str, str]]) -> None:
        for key, module in SERVERS.items():
            if key in extra or key in ("app", "app_quiet", "floor_health", "fastapi"):
                env = {**self.env, **extra.get(key, {})}
                self.servers[key] = load.start(module, env, self.out / f"{key}.log")
        for server in self.servers.values():
            load.wait_healthy(server)

    def stop_servers(self) -> None:
        for server in self.servers.values():
            server.stop()
        self.servers.clear()

    def run(
        self,
        server: str,
        case: Case,
        path: str,
        connections: int,
        duration: int,
        script_args: tuple[str, ...] = (),
    ) -> load.Run:
        login = case.name == "login"
        process = self.servers[server]
        load.settle(process)
        cpu = load.worker_cpu_seconds(process)
        run = load.wrk(
            process.url(path),
            case.script,
            connections=connections,
            duration=self.args.login_duration if login else duration,
            timeout=60 if login else 10,
            threads=self.args.wrk_threads,
            data_dir=self.data,
            password=prepare.BENCH_PASSWORD,
            script_args=script_args,
        )
        used = load.worker_cpu_seconds(process) - cpu
        return dataclasses.replace(run, cpu_us_per_request=used / max(run.requests, 1) * 1e6)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python3 tasks.py bench", description=__doc__.split("\n")[0])
    p.add_argument("--duration", type=int, default=5, help="seconds per wrk run (default 5)")
    p.add_argument("--login-duration", type=int, default=15, help="seconds per login run")
    p.add_argument("--warmup", type=int, default=2, help="seconds of unrecorded load first")
    p.add_argument("--rounds", type=int, default=3, help="rounds of every case (default 3)")
    p.add_argument("--connections", type=int, default=64, help="for the ratio cases")
    p.add_argument("--login-connections", type=int, default=4)
    p.add_argument("--abs-connections", type=int, default=128, help="for the absolute figures")
    p.add_argument("--startup-runs", type=int, default=5)
    p.add_argument("--wrk-threads", type=int, default=1)
    p.add_argument("--jobs", type=int, default=10_000)
    p.add_argument("--companies", type=int, default=1_000)
    p.add_argument("--applications", type=int, default=50_000)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--users", type=int, default=1_000, help="distinct users to log in as")
    p.add_argument("--search-queries", type=int, default=8_000, help="distinct searches")
    p.add_argument("--bcrypt-rounds", type=int, default=12)
    p.add_argument("--db-name", default="hmb_bench")
    p.add_argument("--reuse-db", action="store_true", help="keep an already seeded database")
    p.add_argument(
        "--only",
        nargs="*",
        choices=[*(c.name for c in CASES), "startup"],
        help="cases to run ('startup' alone: only start -> first /health, no data or wrk)",
    )
    return p.parse_args(argv)


def prepare_data(bench: Bench) -> dict[str, dict[str, str]]:
    """Database, users and inputs; returns the extra environment of each floor server."""
    args = bench.args
    server_url = os.environ.get("DATABASE_URL")
    if not server_url:
        raise SystemExit("DATABASE_URL is not set: run `python3 tasks.py bench`.")
    database = prepare.bench_database(server_url, args.db_name)
    fresh = asyncio.run(prepare.create_database(server_url, args.db_name, fresh=not args.reuse_db))
    print(f"database {args.db_name}: {'created' if fresh else 'reused'}", flush=True)
    if fresh:
        prepare.migrate(database)
        if prepare.has_seed_command():
            started = time.monotonic()
            prepare.seed(
                database,
                jobs=args.jobs,
                companies=args.companies,
                applications=args.applications,
                seed=args.seed,
            )
            print(f"seeded in {time.monotonic() - started:.0f} s", flush=True)
        else:
            print("`python -m app seed` does not exist yet: the job cases are skipped")
    emails, bench.password_hash = asyncio.run(
        prepare.create_login_users(database, args.users, args.bcrypt_rounds)
    )
    prepare.write_users(bench.data, emails)
    bench.env["DATABASE_URL"] = database.url
    extra = {
        "floor_bcrypt": {"BENCH_BCRYPT_HASH": bench.password_hash},
        "app_quiet": {"LOG_LEVEL": "WARNING"},
    }
    try:
        asyncio.run(
            prepare.capture(
                database, bench.data, ids=500, queries=args.search_queries, seed=args.seed
            )
        )
    except (httpx.HTTPError, RuntimeError, KeyError) as exc:
        print(f"job cases skipped: {type(exc).__name__}: {exc}", flush=True)
    else:
        bench.available.add("jobs")
        extra["floor_db"] = {
            "BENCH_DSN": database.dsn,
            "BENCH_SQL_FILE": str(bench.data / "sql.json"),
        }
    return extra


def probe_login(bench: Bench) -> None:
    email = (bench.data / "users.txt").read_text().split()[0]
    reply = httpx.post(
        bench.servers["app"].url("/api/auth/login"),
        json={"email": email, "password": prepare.BENCH_PASSWORD},
        timeout=30,
    )
    if reply.status_code == 200:
        bench.available.add("login")
    else:
        print(f"login case skipped: POST /api/auth/login answered {reply.status_code}")


def measure_cases(bench: Bench, cases: list[Case]) -> tuple[dict[str, Any], list[float]]:
    args = bench.args
    results: dict[str, Any] = {
        c.name: {"floor": [], "app": [], "variants": {v[0]: [] for v in c.variants}} for c in cases
    }

    def conns(case: Case) -> int:
        return args.login_connections if case.name == "login" else args.connections

    print(f"warm-up: {args.warmup:g} s per server and case", flush=True)
    for case in cases:
        bench.run(case.floor, case, case.path, conns(case), args.warmup)
        bench.run("app", case, case.path, conns(case), args.warmup)
        for _, server, path, script_args in case.variants:
            bench.run(server, case, path, conns(case), args.warmup, script_args)
    rss = []
    for round_no in range(1, args.rounds + 1):
        for case in cases:
            entry = results[case.name]
            entry["floor"].append(
                bench.run(case.floor, case, case.path, conns(case), args.duration)
            )
            entry["app"].append(bench.run("app", case, case.path, conns(case), args.duration))
            for label, server, path, script_args in case.variants:
                entry["variants"][label].append(
                    bench.run(server, case, path, conns(case), args.duration, script_args)
                )
            ratio = entry["app"][-1].rps / entry["floor"][-1].rps
            print(f"round {round_no} {case.label}: ratio {ratio:.2f}", flush=True)
        rss.append(load.worker_rss_mb(bench.servers["app"]))
        print(f"round {round_no}: worker RSS {rss[-1]:.1f} MB", flush=True)
    return results, rss


def summarise_case(case: Case, entry: dict[str, Any]) -> dict[str, Any]:
    floor, app = entry["floor"], entry["app"]
    ratios = [a.rps / f.rps for a, f in zip(app, floor, strict=True)]
    ratio = load.median(ratios)

    def figures(runs: list[load.Run]) -> dict[str, Any]:
        return {
            "rps": load.median([r.rps for r in runs]),
            "p50_ms": load.median([r.p50_ms for r in runs]),
            "p99_ms": load.median([r.p99_ms for r in runs]),
            "cpu_us_per_request": load.median([r.cpu_us_per_request for r in runs]),
            "non_2xx": sum(r.non_2xx for r in runs),
            "socket_errors": sum(r.socket_errors for r in runs),
            "runs": [r.as_dict() for r in runs],
        }

    app_fig = figures(app)
    return {
        "label": case.label,
        "connections": app[0].connections,
        "floor": figures(floor),
        "app": app_fig,
        "ratios": ratios,
        "ratio": ratio,
        "target": case.target,
        "pass": ratio >= case.target and app_fig["non_2xx"] == 0 and app_fig["socket_errors"] == 0,
        "variants": {
            label: {
                **figures(runs),
                "ratio": load.median([v.rps / f.rps for v, f in zip(runs, floor, strict=True)]),
            }
            for label, runs in entry["variants"].items()
        },
    }


def measure_absolute(bench: Bench, cases: list[Case]) -> dict[str, Any]:
    figures = {}
    for case in cases:
        if case.name == "login":
            continue  # bcrypt-bound by design: see the README
        run = bench.run("app", case, case.path, bench.args.abs_connections, bench.args.duration)
        limit = (5, None) if case.name == "health" else (150, 700)
        figures[case.name] = {
            **run.as_dict(),
            "label": case.label,
            "old_target": f"p50 < {limit[0]} ms" + (f", p99 < {limit[1]} ms" if limit[1] else ""),
            "meets_old_target": run.p50_ms < limit[0]
            and (limit[1] is None or run.p99_ms < limit[1]),
        }
    return figures


def measure_startup(bench: Bench) -> dict[str, Any]:
    floor, app = [], []
    for i in range(bench.args.startup_runs):
        floor.append(
            load.startup_seconds(
                SERVERS["fastapi"], bench.env, bench.out / f"startup-floor-{i}.log"
            )
        )
        app.append(
            load.startup_seconds(SERVERS["app"], bench.env, bench.out / f"startup-app-{i}.log")
        )
    ratio = load.median(app) / load.median(floor)
    return {
        "floor_s": floor,
        "app_s": app,
        "floor_median_s": load.median(floor),
        "app_median_s": load.median(app),
        "ratio": ratio,
        "target": 1.3,
        "pass": ratio <= 1.3,
    }


def _row(cells: list[str], widths: list[int]) -> str:
    return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [_row(header, widths), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    return "\n".join([*lines, *(_row(r, widths) for r in rows)])


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _load_row(
    label: str,
    conns: int,
    floor: dict[str, Any] | None,
    svc: dict[str, Any],
    ratio: float,
    target: str,
    verdict: str,
) -> list[str]:
    cpu = f"{floor['cpu_us_per_request']:.0f} -> " if floor else ""
    return [
        label,
        str(conns),
        f"{floor['rps']:,.0f}" if floor else "",
        f"{svc['rps']:,.0f}",
        f"{ratio:.2f}",
        target,
        f"{svc['p50_ms']:.1f}",
        f"{svc['p99_ms']:.1f}",
        f"{svc['non_2xx']}/{svc['socket_errors']}",
        f"{cpu}{svc['cpu_us_per_request']:.0f}",
        verdict,
    ]


def report(result: dict[str, Any]) -> str:
    rows = []
    for c in result["cases"].values():
        target, verdict = f">= {c['target']}", _verdict(c["pass"])
        rows.append(
            _load_row(
                c["label"], c["connections"], c["floor"], c["app"], c["ratio"], target, verdict
            )
        )
        for label, v in c["variants"].items():
            rows.append(_load_row(f"  {label}", c["connections"], None, v, v["ratio"], "", ""))
    s, m = result["startup"], result["memory"]
    if s:
        floor, svc = f"{s['floor_median_s']:.2f} s", f"{s['app_median_s']:.2f} s"
        ratio = f"{s['ratio']:.2f}x"
        rows.append(
            ["start -> first /health 200", "", floor, svc, ratio, "<= 1.3x"]
            + [""] * 4
            + [_verdict(s["pass"])]
        )
    per_round = " / ".join(f"{x:.0f}" for x in m["per_round_mb"])
    rows.append(
        [
            "worker RSS (MB) after rounds / run",
            "",
            per_round,
            f"{m['final_mb']:.0f}",
            f"{m['growth_mb']:+.1f}",
            "<= 150, no growth",
        ]
        + [""] * 4
        + [_verdict(m["pass"])]
    )
    out = [
        table(
            [
                "case",
                "conns",
                "floor",
                "service",
                "ratio",
                "target",
                "p50 ms",
                "p99 ms",
                "non-2xx/sock",
                "CPU us/req",
                "",
            ],
            rows,
        )
    ]
    if result["absolute"]:
        abs_rows = [
            [
                a["label"],
                str(a["connections"]),
                f"{a['rps']:,.0f}",
                f"{a['p50_ms']:.1f}",
                f"{a['p99_ms']:.1f}",
                f"{a['non_2xx']}/{a['socket_errors']}",
                a["old_target"],
                "yes" if a["meets_old_target"] else "no",
            ]
            for a in result["absolute"].values()
        ]
        abs_rows.append(
            ["worker RSS", "", "", "", "", "", "< 400 MB", "yes" if m["final_mb"] < 400 else "no"]
        )
        out.append(
            table(
                [
                    "absolute",
                    "conns",
                    "req/s",
                    "p50 ms",
                    "p99 ms",
                    "non-2xx/sock",
                    "old target",
                    "meets",
                ],
                abs_rows,
            )
        )
    return "\n\n".join(out)


def startup_only(bench: Bench, stamp: str) -> int:
    s = measure_startup(bench)
    print(
        f"start -> first /health 200: floor {s['floor_median_s']:.2f} s, service "
        f"{s['app_median_s']:.2f} s, ratio {s['ratio']:.2f}x (target <= 1.3x): "
        f"{_verdict(s['pass'])}"
    )
    path = RESULTS / f"bench-{stamp}.json"
    path.write_bytes(orjson.dumps({"time": stamp, "startup": s}, option=orjson.OPT_INDENT_2))
    print(f"results: {path}\nlogs: {bench.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = RESULTS / stamp
    out.mkdir(parents=True, exist_ok=True)
    env = {
        "ENVIRONMENT": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "BCRYPT_ROUNDS": str(args.bcrypt_rounds),
        "WEB_CONCURRENCY": "1",
        # The worker lives through the whole run (see the README): recycling it every ~1000
        # requests would make the memory target meaningless and measure restarts, not requests.
        "GUNICORN_MAX_REQUESTS": "0",
        **POOL_ENV,
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
    }
    bench = Bench(args, out, out / "data", {k: v for k, v in env.items() if v is not None})
    if args.only == ["startup"]:
        return startup_only(bench, stamp)
    load.require_wrk()
    extra = prepare_data(bench)
    selected = [c for c in CASES if not args.only or c.name in args.only]
    try:
        bench.start_servers(extra)
        probe_login(bench)
        cases = [c for c in selected if c.needs is None or c.needs in bench.available]
        raw, rss = measure_cases(bench, cases)
        absolute = measure_absolute(bench, cases)
        final_rss = load.worker_rss_mb(bench.servers["app"])
    finally:
        bench.stop_servers()
    startup = measure_startup(bench) if args.startup_runs else {}
    growth = rss[-1] - rss[0]
    result = {
        "time": stamp,
        "args": vars(args),
        "cpus": os.cpu_count(),
        "cases": {c.name: summarise_case(c, raw[c.name]) for c in cases},
        "skipped": [c.name for c in selected if c not in cases],
        "absolute": absolute,
        "startup": startup,
        "memory": {
            "per_round_mb": rss,
            "final_mb": final_rss,
            "growth_mb": growth,
            "pass": final_rss <= 150 and growth <= max(2.0, 0.02 * rss[0]),
        },
    }
    text = report(result)
    print("\n" + text)
    if result["skipped"]:
        print(f"\nskipped: {', '.join(result['skipped'])}")
    print(f"\n{OLD_TARGETS}; absolute figures at {args.abs_connections} connections")
    path = RESULTS / f"bench-{stamp}.json"
    path.write_bytes(orjson.dumps({**result, "table": text}, option=orjson.OPT_INDENT_2))
    print(f"results: {path}\nlogs: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
