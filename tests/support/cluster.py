"""Two real instances of the service behind nginx, as production runs them.

    cluster = start_cluster(database_url, redis_url, workdir=tmp_path)
    with cluster.client() as http:            # httpx.Client on nginx (round robin)
        response = http.get("/api/jobs")
    cluster.served_by(response)               # 0 or 1: which instance answered (nginx's log)
    cluster.instances[1].log()                # each instance: a tests.support.server_process server
    cluster.stop()

Each instance is `gunicorn -c gunicorn.conf.py app.main:app` (tests/support/server_process.py)
on its own free port; both share one migrated PostgreSQL database and one Redis. nginx runs the
configuration shipped in deploy/nginx/nginx.conf, with only its `listen` port and its
upstream's `server` lines substituted. Which instance served a request comes from nginx's
access line for the request's X-Request-ID (its `upstream` field), so tests can prove a write
on one instance is seen on the other.

In pytest, use the `cluster` fixture (every test sees it: tests/conftest.py loads this module
as a plugin); it needs nginx (`.ci/apt-packages`; without it the test skips, outside CI) and
Redis; the module's tests share it, stopped when the module ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.support.server_process import BOOT_TIMEOUT, ROOT, ServerProcess, free_port, start_server

NGINX_CONF = ROOT / "deploy" / "nginx" / "nginx.conf"
_UPSTREAM_SERVER = re.compile(r"^(\s*)server api:10000(.*);$", re.MULTILINE)
_LISTEN = re.compile(r"^(\s*)listen 80;$", re.MULTILINE)


def render_nginx_conf(listen_port: int, upstreams: list[str]) -> str:
    """The shipped nginx configuration with its port and upstream servers replaced."""
    text = NGINX_CONF.read_text()
    text, listens = _LISTEN.subn(rf"\g<1>listen 127.0.0.1:{listen_port};", text)
    servers = _UPSTREAM_SERVER.search(text)
    if listens != 1 or servers is None:
        raise AssertionError(f"{NGINX_CONF} no longer has one `listen 80;` and `server api:10000`")
    indent, options = servers.group(1), servers.group(2)
    lines = "\n".join(f"{indent}server {address}{options};" for address in upstreams)
    return text[: servers.start()] + lines + text[servers.end() :]


def nginx_binary() -> str:
    binary = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )
    if binary is None:
        missing = "nginx is not installed (Debian package `nginx`, listed in .ci/apt-packages)"
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    return binary


def nginx_test(conf: Path, pid_file: Path) -> subprocess.CompletedProcess[str]:
    """`nginx -t` on a configuration file: exit code 0 and "test is successful" when valid."""
    return subprocess.run(
        [nginx_binary(), "-t", "-c", str(conf), "-g", f"pid {pid_file};"],
        capture_output=True,
        text=True,
        timeout=30,
    )


@dataclass
class Nginx:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def access_lines(self) -> list[dict[str, object]]:
        lines = []
        for line in self.log().splitlines():
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                if isinstance(entry, dict) and entry.get("logger") == "nginx":
                    lines.append(entry)
        return lines

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful: finish, then exit
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@dataclass
class Cluster:
    instances: list[ServerProcess]
    nginx: Nginx
    stopped: bool = field(default=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.nginx.port}"

    def client(self, **kwargs: object) -> httpx.Client:
        """A client on nginx (not on either instance directly)."""
        return httpx.Client(base_url=self.base_url, timeout=30.0, **kwargs)  # type: ignore[arg-type]

    def served_by(self, response: httpx.Response, timeout: float = 10.0) -> int:
        """Index of the instance that answered `response`, from nginx's access line for its
        X-Request-ID (nginx writes that line just after the response, so wait for it)."""
        request_id = response.headers["x-request-id"]
        ports = {f"127.0.0.1:{server.port}": index for index, server in enumerate(self.instances)}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for entry in self.nginx.access_lines():
                if entry.get("request_id") == request_id:
                    upstream = str(entry["upstream"])
                    assert upstream in ports, f"served by {upstream!r}, not an instance"
                    return ports[upstream]
            time.sleep(0.02)
        pytest.fail(f"no nginx access line for request {request_id}:\n{self.nginx.log()}")

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        self.nginx.stop()
        for server in self.instances:
            server.stop()


def start_cluster(
    database_url: str,
    redis_url: str | None,
    *,
    workdir: Path,
    env: Mapping[str, str | None] | None = None,
    size: int = 2,
) -> Cluster:
    """Start `size` instances and nginx in front of them; return once all answer /health."""
    workdir.mkdir(parents=True, exist_ok=True)
    instances: list[ServerProcess] = []
    nginx: Nginx | None = None
    try:
        for index in range(size):
            overrides = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, **(env or {})}
            instances.append(start_server(overrides, log_path=workdir / f"instance-{index}.log"))
        for server in instances:
            server.wait_healthy()
        nginx = _start_nginx(workdir, [f"127.0.0.1:{s.port}" for s in instances])
        return Cluster(instances, nginx)
    except BaseException:
        if nginx is not None:
            nginx.stop()
        for server in instances:
            server.stop()
        raise


def _start_nginx(workdir: Path, upstreams: list[str]) -> Nginx:
    port = free_port()
    conf = workdir / "nginx.conf"
    conf.write_text(render_nginx_conf(port, upstreams))
    pid_file = workdir / "nginx.pid"
    checked = nginx_test(conf, pid_file)
    assert checked.returncode == 0, checked.stderr
    log_path = workdir / "nginx.log"
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            [nginx_binary(), "-c", str(conf), "-g", f"pid {pid_file}; daemon off;"],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    nginx = Nginx(process, port, log_path)
    deadline = time.monotonic() + BOOT_TIMEOUT
    with httpx.Client(timeout=2.0) as http:
        while True:
            if process.poll() is not None:
                pytest.fail(f"nginx exited with {process.returncode}:\n{nginx.log()}")
            with contextlib.suppress(httpx.TransportError):
                if http.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                    return nginx
            if time.monotonic() > deadline:
                nginx.stop()
                pytest.fail(f"nginx never answered /health:\n{nginx.log()}")
            time.sleep(0.05)


@pytest.fixture(scope="module")
def cluster(
    database_url: str, redis_url: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    """Two instances behind nginx on the suite's database and Redis, shared by the module's
    tests (each still gets emptied tables and Redis) and stopped when the module ends."""
    if redis_url is None:
        pytest.skip("the cluster shares state through Redis: set REDIS_URL")
    running = start_cluster(database_url, redis_url, workdir=tmp_path_factory.mktemp("cluster"))
    try:
        yield running
    finally:
        running.stop()
