"""Profile the service's worker under one benchmark case with py-spy (GIL-holding samples only,
so idle thread-pool threads don't drown the picture) and print where the CPU goes.

    .venv/bin/pip install -e '.[bench]'          # py-spy, pyinstrument
    DATABASE_URL=... .venv/bin/python -m bench.profile health [--seconds 10]

Uses the database and inputs of the last `python3 tasks.py bench` run (bench/results/). For a
signed-in case it first logs `--seekers`/`--employers` seed accounts in through the profiled
server (the run's own tokens were signed with its unkept key).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import httpx

from bench import load, prepare
from bench.run import CASES, MIXED_LABEL, OVERRIDES, RESULTS, Case, production_env
from tests.support.server_process import ServerProcess


def summarise(raw: Path, top: int) -> str:
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        samples += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames):
            total[frame] += int(count)
    lines = [f"{samples} samples with the GIL held", "", "own time:"]
    lines += [f"{n / samples:6.1%}  {f}" for f, n in own.most_common(top)]
    lines += ["", "inclusive time (request path):"]
    lines += [f"{n / samples:6.1%}  {f}" for f, n in total.most_common(top * 2) if "(app/" in f]
    return "\n".join(lines)


def _signed_in_data(
    server: ServerProcess, run_data: Path, data: Path, args: argparse.Namespace
) -> Path:
    """The last run's inputs, with seekers.txt and employers.txt of tokens this server issued."""
    shutil.copytree(run_data, data, dirs_exist_ok=True)

    async def sign_in() -> None:
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            await prepare.sign_in(
                client, data, seekers=args.seekers, employers=args.employers, seed=1
            )

    asyncio.run(sign_in())
    return data


def main(argv: list[str] | None = None) -> int:
    cases = {c.name: c for c in CASES if c.needs != "login"}
    cases["mixed"] = Case("mixed", MIXED_LABEL, "mixed.lua", "/", "", 0.0, needs="signed_in")
    p = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    p.add_argument("case", choices=sorted(cases))
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--db-name", default="hmb_bench")
    p.add_argument("--seekers", type=int, default=40)
    p.add_argument("--employers", type=int, default=10)
    args = p.parse_args(argv)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    runs = sorted(d for d in RESULTS.glob("2*") if (d / "data" / "users.txt").exists())
    if not runs:
        raise SystemExit("run `python3 tasks.py bench` first: it prepares the database and inputs")
    data = runs[-1] / "data"
    server_url = os.environ.get("DATABASE_URL")
    if not server_url:
        raise SystemExit("DATABASE_URL is not set (the server the benchmark used)")
    env = {
        **production_env(bcrypt_rounds=12),
        **OVERRIDES["every service server"][0],
        # py-spy follows one worker pid for the whole recording: a recycled worker would end it.
        "GUNICORN_MAX_REQUESTS": "0",
        "DATABASE_URL": prepare.bench_database(server_url, args.db_name).url,
    }
    print("the bench's service settings, and GUNICORN_MAX_REQUESTS=0 (py-spy follows one pid)")
    case = cases[args.case]
    out = RESULTS / f"profile-{case.name}"
    out.mkdir(parents=True, exist_ok=True)
    server = load.start("app.main:app", env, out / "server.log")
    try:
        load.wait_healthy(server)
        if case.needs == "signed_in":
            data = _signed_in_data(server, data, out / "data", args)

        def drive(seconds: int) -> load.Run:
            return load.wrk(
                server.url(case.path),
                case.script,
                connections=args.connections,
                duration=seconds,
                timeout=60,
                threads=1,
                data_dir=data,
                password=prepare.BENCH_PASSWORD,
                script_args=case.args,
            )

        drive(2)
        runner = threading.Thread(target=lambda: print(drive(args.seconds + 2)))
        runner.start()
        (pid,) = server.worker_pids()
        raw = out / "py-spy.txt"
        record = ["record", "--pid", str(pid), "--duration", str(args.seconds), "--gil"]
        subprocess.run(
            [py_spy, *record, "--rate", "250", "--format", "raw", "--output", str(raw)],
            check=True,
            capture_output=True,
        )
        runner.join()
    finally:
        server.stop()
    print(summarise(raw, args.top))
    print(f"\nraw stacks (flamegraph.pl / speedscope input): {raw}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
