"""Boot the real server exactly as production does, for tests and benchmarks.

    python -m gunicorn -c gunicorn.conf.py app.main:app      (cwd = the repository root)

which is what `python -m app serve`, the deploy files' start command, execs once it has
checked the server settings (tests/server/test_serve.py boots that command itself).

API:

    server = start_server({"DATABASE_URL": url, "REDIS_URL": None}, log_path=tmp_path / "srv.log")
    server.wait_healthy()                  # polls GET /health until 200; fails the test otherwise
    httpx.get(server.url("/ready/db"))
    server.log()                           # everything gunicorn and the app wrote so far
    server.worker_pids()                   # pids of the master's child processes
    server.send_signal(signal.SIGTERM); code = server.wait_exit(timeout=60)
    server.stop()                          # always safe: kills the whole process group

`env` is laid over a minimal base environment (PATH, a free PORT, ENVIRONMENT=test, a test
SECRET_KEY, BCRYPT_ROUNDS=4, no DATABASE_URL/REDIS_URL); a value of None removes a variable.
Nothing of the test run's own environment leaks in except PATH, HOME and locale variables.

`start_server(..., args=("tests.support.probe_app:app",))` serves another app module;
`command=[...]` runs another command line (a deploy file's start command) the same way.

In pytest, prefer the `server_factory` fixture (every test sees it: tests/conftest.py loads this
module as a plugin): it calls
`start_server(env, log_path=<tmp>, ...)` with the same arguments and stops every server it started
when the test ends, even when the test fails. Waits are bounded by generous timeouts so a hang
fails the test instead of blocking the run; they never assert speed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
TEST_SECRET = "test-secret-key-that-is-long-enough-for-hs256-0123456789"
# A SECRET_KEY that ENVIRONMENT=production accepts (long, random-looking, not a default).
STRONG_KEY = "Zq8f3-Lk1vW9xT0pNc7rYb2uHs6eJd4gMa5oQi_-AAk"
BOOT_TIMEOUT = 60.0
EXIT_TIMEOUT = 60.0
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV")


def free_port() -> int:
    """A TCP port nothing listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_pids(parent: int) -> set[int]:
    """Pids of the live (not zombie) processes whose parent is `parent`, from /proc."""
    children = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # the process went away while we looked
        # Fields 3 and 4 are the state and the parent pid; the command name in field 2 may
        # contain spaces.
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == parent and state != "Z":
            children.add(int(entry.name))
    return children


def server_env(overrides: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """The environment the server is started with: a minimal base plus `overrides`."""
    env = {k: os.environ[k] for k in _INHERITED if k in os.environ}
    # The interpreter's own bin directory first, so `gunicorn` and `alembic` are this venv's.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update(
        PORT=str(free_port()),
        ENVIRONMENT="test",
        SECRET_KEY=TEST_SECRET,
        BCRYPT_ROUNDS="4",
        LOGIN_DELAY_SECONDS="0.001",
        RATE_LIMIT_PER_MINUTE="1000000",  # many requests from one address; override to test it
        PYTHONUNBUFFERED="1",
    )
    for key, value in (overrides or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


class ServerProcess:
    """A running `gunicorn -c gunicorn.conf.py app.main:app` and its log file."""

    def __init__(self, process: subprocess.Popen[bytes], env: dict[str, str], log_path: Path):
        self.process = process
        self.env = env
        self.log_path = log_path
        self.port = int(env["PORT"]) if env.get("PORT", "").isdigit() else 0

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def log(self) -> str:
        """Everything the server wrote to stdout and stderr so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for_log(self, text: str, timeout: float = BOOT_TIMEOUT) -> None:
        """Wait until `text` appears in the log; fail the test if it never does."""
        deadline = time.monotonic() + timeout
        while text not in self.log():
            if time.monotonic() > deadline:
                pytest.fail(f"{text!r} never appeared in the server log:\n{self.log()}")
            time.sleep(0.05)

    def wait_healthy(self, timeout: float = BOOT_TIMEOUT) -> None:
        """Poll GET /health until it answers 200; fail the test if the server exits first or
        the timeout passes."""
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0) as client:
            while True:
                if self.process.poll() is not None:
                    pytest.fail(
                        f"server exited with {self.process.returncode} before /health answered:"
                        f"\n{self.log()}"
                    )
                try:
                    if client.get(self.url("/health")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"/health never answered 200 within {timeout} s:\n{self.log()}")
                time.sleep(0.05)

    def worker_pids(self) -> list[int]:
        """Pids of the processes whose parent is the Gunicorn master (from /proc)."""
        return sorted(child_pids(self.pid))

    def send_signal(self, sig: int) -> None:
        """Send `sig` to the Gunicorn master only, as Render or Docker does."""
        self.process.send_signal(sig)

    def wait_exit(self, timeout: float = EXIT_TIMEOUT) -> int:
        """The master's exit code; fails the test if it has not exited within `timeout`."""
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"server still running {timeout} s later:\n{self.log()}")

    def stop(self) -> None:
        """Kill the whole process group (master and workers). Safe to call more than once."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)


def start_server(
    env: Mapping[str, str | None] | None = None,
    *,
    log_path: Path,
    args: tuple[str, ...] = ("app.main:app",),
    command: Sequence[str] | None = None,
) -> ServerProcess:
    """Start Gunicorn with gunicorn.conf.py in its own process group; does not wait.

    `args` replaces the application argument, e.g. ("tests.support.probe_app:app",);
    `command` replaces the whole command line (e.g. a deploy file's start command).
    """
    full_env = server_env(env)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command or [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", *args],
            cwd=ROOT,
            env=full_env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return ServerProcess(process, full_env, log_path)


StartServer = Callable[..., ServerProcess]


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[StartServer]:
    """Factory fixture: `server_factory(env, args=...)` starts a server (logging to a file under
    the test's tmp_path) and every server it started is killed when the test ends."""
    started: list[ServerProcess] = []

    def start(
        env: Mapping[str, str | None] | None = None,
        *,
        args: tuple[str, ...] = ("app.main:app",),
        command: Sequence[str] | None = None,
    ) -> ServerProcess:
        log_path = tmp_path / f"server-{len(started)}.log"
        server = start_server(env, log_path=log_path, args=args, command=command)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
