"""Measuring: servers started as production starts them, wrk runs, start-up time, worker memory."""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from tests.support.server_process import ServerProcess, start_server

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
    # The workers' own CPU time per request: steadier than req/s when CPU steal swings.
    cpu_us_per_request: float = float("nan")
    # Responses by status, for the scripts that count them (mixed.lua).
    statuses: dict[str, int] = field(default_factory=dict)
    worker_boots: int = 0  # workers Gunicorn started during the run (recycling)

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
        statuses=summary.get("statuses", {}),
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


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time process `pid` has used so far."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _postgres_processes() -> tuple[int, list[int]]:
    """The live `postgres` processes' own CPU ticks, and the pids of the postmasters."""
    ticks, postmasters = 0, []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            fields = _stat(int(entry.name))
            parent = (Path("/proc") / fields[1] / "comm").read_text().strip()
        except OSError:
            continue  # exited while we looked: counted in the postmaster's from now on
        ticks += int(fields[11]) + int(fields[12])
        if parent != "postgres":
            postmasters.append(int(entry.name))
    return ticks, postmasters


def _reaped_ticks(postmasters: list[int]) -> int:
    """The CPU ticks of the backends the postmasters have reaped (a connection that closed)."""
    return sum(int(_stat(pid)[13]) + int(_stat(pid)[14]) for pid in postmasters)


def postgres_cpu_seconds() -> float:
    """CPU time of this machine's PostgreSQL so far: every live `postgres` process's own, and
    the postmaster's counters of the backends it has reaped. A backend reaped while the live
    ones are read would be missed by both, so the reading is taken again until no backend was
    reaped during it."""
    ticks, postmasters = _postgres_processes()
    reaped = _reaped_ticks(postmasters)
    for _ in range(20):
        ticks, postmasters = _postgres_processes()
        after = _reaped_ticks(postmasters)
        if after == reaped:
            break
        reaped = after
    return (ticks + reaped) / os.sysconf("SC_CLK_TCK")


def worker_cpu_seconds(server: ServerProcess) -> float:
    """User + system CPU time the workers have used so far: the live ones' own and, through
    the master's counters of its reaped children, that of every worker recycling retired."""
    master = _stat(server.pid)
    ticks = int(master[13]) + int(master[14])  # cutime + cstime: children waited for
    for pid in server.worker_pids():
        try:
            fields = _stat(pid)
        except OSError:
            continue  # retired while we looked: counted in the master's from now on
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def worker_boots(server: ServerProcess) -> int:
    """Workers Gunicorn has started so far (its "Booting worker" lines)."""
    return server.log().count("Booting worker with pid")


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


def _rss_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None  # the worker went away while we looked
    lines = [x for x in status.splitlines() if x.startswith("VmRSS:")]
    return int(lines[0].split()[1]) / 1024 if lines else None


class MemorySampler:
    """Samples the workers' RSS of some servers every `interval` seconds in a thread, for the
    whole run: {server name: [(seconds since start, worker pid, MB)]}."""

    def __init__(self, servers: dict[str, ServerProcess], interval: float = 0.5) -> None:
        self.servers, self.interval = servers, interval
        self.samples: dict[str, list[tuple[float, int, float]]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="rss", daemon=True)
        self._started = time.monotonic()
        self.steady_from = 0.0  # growth is judged from here on (after the warm-up)

    def mark_steady(self) -> None:
        self.steady_from = time.monotonic() - self._started

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            for name, server in list(self.servers.items()):
                for pid in server.worker_pids():
                    if (mb := _rss_mb(pid)) is not None:
                        at = time.monotonic() - self._started
                        self.samples.setdefault(name, []).append((at, pid, mb))

    def summary(self, tolerance_mb: float = 2.0) -> dict[str, Any]:
        """The largest RSS of any worker, and the growth over the longest-lived worker's life
        after the warm-up (the median of its last quarter of samples against its first)."""
        lives: dict[tuple[str, int], list[tuple[float, float]]] = {}
        for name, samples in self.samples.items():
            for at, pid, mb in samples:
                if at >= self.steady_from:
                    lives.setdefault((name, pid), []).append((at, mb))
        if not lives:
            return {"max_mb": float("nan"), "pass": False, "samples": 0}
        (name, pid), life = max(lives.items(), key=lambda item: item[1][-1][0] - item[1][0][0])
        quarter = max(1, len(life) // 4)
        first = median([mb for _, mb in life[:quarter]])
        last = median([mb for _, mb in life[-quarter:]])
        peak = max(mb for samples in self.samples.values() for _, _, mb in samples)
        growth = last - first
        return {
            "max_mb": peak,
            "max_mb_by_server": {
                n: max(mb for _, _, mb in samples) for n, samples in self.samples.items()
            },
            "longest_lived": {"server": name, "pid": pid, "seconds": life[-1][0] - life[0][0]},
            "first_quarter_mb": first,
            "last_quarter_mb": last,
            "growth_mb": growth,
            "tolerance_mb": max(tolerance_mb, 0.02 * first),
            "samples": sum(len(x) for x in self.samples.values()),
            "pass": peak <= 150 and growth <= max(tolerance_mb, 0.02 * first),
        }


def figures(runs: list[Run]) -> dict[str, Any]:
    """The medians of some runs of one case, their failures summed, and the runs."""
    return {
        "rps": median([r.rps for r in runs]),
        "p50_ms": median([r.p50_ms for r in runs]),
        "p99_ms": median([r.p99_ms for r in runs]),
        "cpu_us_per_request": median([r.cpu_us_per_request for r in runs]),
        "non_2xx": sum(r.non_2xx for r in runs),
        "socket_errors": sum(r.socket_errors for r in runs),
        "worker_boots": sum(r.worker_boots for r in runs),
        "runs": [r.as_dict() for r in runs],
    }


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
