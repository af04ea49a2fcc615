"""PgBouncer in transaction pool mode, as Neon's "-pooler" endpoint runs it, in front of the
test PostgreSQL: its own ini in a temporary folder, a free port, trust authentication.

Few server connections are shared by many clients, so one transaction's server connection is
generally not the next one's: exactly what breaks named prepared statements.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import URL

from tests.support.server_process import free_port

START_TIMEOUT = 30.0
# Fewer server connections than the app's pool holds: transactions of one client connection
# land on different server connections.
SERVER_CONNECTIONS = 2


def pgbouncer_binary() -> str | None:
    return shutil.which("pgbouncer") or next(
        (p for p in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if os.path.exists(p)), None
    )


@dataclass(frozen=True)
class ServerConnection:
    """What one of the pooler's server connections holds for its next client."""

    pid: int
    prepared_statements: list[str]
    listening: list[str]  # LISTEN channels
    jit: str  # the session's `jit` now
    jit_default: str  # the database's, which every client of the pooler expects


_CENSUS = """
    SELECT pg_backend_pid() AS pid,
           ARRAY(SELECT name FROM pg_prepared_statements ORDER BY name) AS prepared_statements,
           ARRAY(SELECT pg_listening_channels()) AS listening,
           current_setting('jit') AS jit,
           (SELECT reset_val FROM pg_settings WHERE name = 'jit') AS jit_default
"""


class PgBouncer:
    def __init__(self, upstream: URL, workdir: Path) -> None:
        binary = pgbouncer_binary()
        if binary is None:
            pytest.skip(
                "PgBouncer is not installed (Debian package `pgbouncer`, see .ci/apt-packages)"
            )
        self.binary = binary
        self.upstream = upstream
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.workdir / "pgbouncer.log"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def url_for(self, database_url: URL) -> URL:
        """`database_url` (same server as the upstream), reached through the pooler instead."""
        return database_url.set(host="127.0.0.1", port=self.port, query={})

    async def server_connections(self, database_url: URL) -> list[ServerConnection]:
        """Every server connection of `database_url`'s pool in the pooler, as its next client
        finds it: one client per server connection, each inside a transaction (which keeps
        its server connection to itself) while it looks."""
        dsn = self.url_for(database_url).set(drivername="postgresql")
        clients = [
            await asyncpg.connect(dsn.render_as_string(hide_password=False), statement_cache_size=0)
            for _ in range(SERVER_CONNECTIONS)
        ]
        try:
            for client in clients:
                await client.execute("BEGIN")
            rows = await asyncio.gather(*(client.fetchrow(_CENSUS) for client in clients))
        finally:
            for client in clients:
                await client.close()
        return [ServerConnection(**dict(row)) for row in rows]

    def _write_config(self) -> Path:
        user = self.upstream.username or "postgres"
        host = self.upstream.host or self.upstream.query.get("host") or "127.0.0.1"
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "userlist.txt").write_text(f'"{user}" ""\n')
        ini = self.workdir / "pgbouncer.ini"
        ini.write_text(
            "[databases]\n"
            f"* = host={host} port={self.upstream.port or 5432}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {self.port}\n"
            "unix_socket_dir =\n"
            "auth_type = trust\n"
            f"auth_file = {self.workdir / 'userlist.txt'}\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {SERVER_CONNECTIONS}\n"
            "max_client_conn = 200\n"
            "server_reset_query =\n"
            f"logfile = {self.log_path}\n"
            f"pidfile = {self.workdir / 'pgbouncer.pid'}\n"
        )
        return ini

    def start(self) -> PgBouncer:
        ini = self._write_config()
        command = [self.binary, str(ini)]
        if os.geteuid() == 0:
            # PgBouncer refuses to run as root; hand its files to an unprivileged user.
            account = pwd.getpwnam("postgres" if _has_user("postgres") else "nobody")
            for path in (self.workdir, *self.workdir.iterdir()):
                os.chown(path, account.pw_uid, account.pw_gid)
            command[1:1] = ["-u", account.pw_name]
        with (self.workdir / "stderr.log").open("wb") as stderr:
            self.process = subprocess.Popen(
                command, stdout=stderr, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + START_TIMEOUT
        while "listening on 127.0.0.1" not in self.log():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                stderr = (self.workdir / "stderr.log").read_text(errors="replace")
                pytest.fail(f"PgBouncer did not start:\n{stderr}\n{self.log()}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
