"""Measuring: servers started as production starts them, wrk runs, start-up time, worker memory."""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson

from tests.server_process import ServerProcess, start_server

BENCH = Path(__file__).resolve().parent
LUA = BENCH / "lua"
BOOT_TIMEOUT = 60.0


@dataclass(frozen=True)
class Run:
    """One wrk run: throughput, latency and every kind of failure wrk counts."""

    connections: int
    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    non_2xx: int
    socket_errors: int
    # The worker's own CPU time per request: steadier than req/s when CPU steal swings.
    cpu_us_per_request: float = float("nan")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def require_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit(
            "wrk is not installed: `apt-get update && apt-get install -y wrk` (Debian's package)."
        )
    return wrk


def wrk(
    url: str,
    script: str,
    *,
    connections: int,
    duration: int,
    timeout: float,
    threads: int,
    data_dir: Path,
    password: str = "",
    script_args: tuple[str, ...] = (),
) -> Run:
    env = {
        **os.environ,
        "BENCH_LUA": str(LUA),
        "BENCH_DATA": str(data_dir),
        "BENCH_PASSWORD": password,
    }
    result = subprocess.run(
        [
            require_wrk(),
            f"-t{min(threads, connections)}",
            f"-c{connections}",
            f"-d{duration}s",
            f"--timeout={timeout}s",
            "-s",
            str(LUA / script),
            url,
            *(["--", *script_args] if script_args else []),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    line = next((x for x in result.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{result.stdout}\n{result.stderr}")
    summary = orjson.loads(line.removeprefix("BENCH_JSON "))
    errors = summary["errors"]
    latency = summary["latency_us"]
    return Run(
        connections=connections,
        requests=summary["requests"],
        rps=summary["requests"] / (summary["duration_us"] / 1e6),
        p50_ms=latency["p50"] / 1000,
        p90_ms=latency["p90"] / 1000,
        p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000,
        non_2xx=errors["status"],
        socket_errors=errors["connect"] + errors["read"] + errors["write"] + errors["timeout"],
    )


def _first_health(port: int, deadline: float) -> bool:
    """One GET /health; True on a 200. A refused connection (nothing bound yet) is False."""
    try:
        with socket.create_connection(
            ("127.0.0.1", port), timeout=max(0.01, deadline - time.monotonic())
        ) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def start(app: str, env: dict[str, str], log_path: Path) -> ServerProcess:
    return start_server(env, log_path=log_path, args=(app,))


def wait_healthy(server: ServerProcess) -> float:
    """Seconds from now until GET /health first answers 200 (polled every 2 ms)."""
    started = time.monotonic()
    deadline = started + BOOT_TIMEOUT
    while not _first_health(server.port, deadline):
        if server.process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{server.log_path} never answered /health:\n{server.log()[-3000:]}")
        time.sleep(0.002)
    return time.monotonic() - started


def startup_seconds(app: str, env: dict[str, str], log_path: Path) -> float:
    """Process start -> first /health 200, for a fresh Gunicorn master and worker."""
    started = time.monotonic()
    server = start(app, env, log_path)
    try:
        wait_healthy(server)
        return time.monotonic() - started
    finally:
        server.stop()


def worker_cpu_seconds(server: ServerProcess) -> float:
    """User + system CPU time the (one) worker has used so far."""
    (pid,) = server.worker_pids()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settle(server: ServerProcess, limit: float = 30.0) -> None:
    """Wait until the worker is idle (work queued by a finished run, such as bcrypt calls still
    in the thread pool, would otherwise be charged to the next run)."""
    deadline = time.monotonic() + limit
    before = worker_cpu_seconds(server)
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = worker_cpu_seconds(server)
        if now - before < 0.01:
            return
        before = now


def worker_rss_mb(server: ServerProcess) -> float:
    """Resident memory of the (one) worker, in MB."""
    (pid,) = server.worker_pids()
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for worker {pid}")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
