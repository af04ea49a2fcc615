"""A real PostgreSQL streaming replica for the read-replica tests: a fresh primary cluster
(wal_level=replica, replication allowed in pg_hba), migrated with Alembic, and a hot standby
made from it with `pg_basebackup -R`, each on a free port, both removed afterwards.

The PostgreSQL binaries refuse to run as root (the tests do): they run as the `postgres`
system user, in a temporary folder that user owns.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import asyncpg

PG_BIN = Path("/usr/lib/postgresql/15/bin")  # Debian's postgresql-15 (.ci/apt-packages)
DATABASE = "hmb_replica"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def missing() -> str | None:
    """Why a replica pair cannot be made here, or None."""
    if not (PG_BIN / "pg_basebackup").exists():
        return f"needs the PostgreSQL 15 server binaries in {PG_BIN}"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root needs a `postgres` system user to run PostgreSQL as"
    return None


class ReplicaPair:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="hmb-replica-"))
        self.primary_dir = self.root / "primary"
        self.standby_dir = self.root / "standby"
        self.primary_port = _free_port()
        self.standby_port = _free_port()
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self._prefix = ["runuser", "-u", "postgres", "--"]
        else:
            self._prefix = []

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            [*self._prefix, str(PG_BIN / tool), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stdout}{done.stderr}")

    def url(self, port: int) -> str:
        return f"postgresql://postgres@127.0.0.1:{port}/{DATABASE}"

    @property
    def primary_url(self) -> str:
        return self.url(self.primary_port)

    @property
    def standby_url(self) -> str:
        return self.url(self.standby_port)

    def start_primary(self) -> None:
        self._run(
            "initdb", "--no-sync", "-D", str(self.primary_dir), "-U", "postgres", "-A", "trust"
        )
        with open(self.primary_dir / "postgresql.conf", "a") as conf:
            conf.write(
                f"port = {self.primary_port}\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.root}'\n"
                "wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n"
                "fsync = off\nfull_page_writes = off\n"
            )
        with open(self.primary_dir / "pg_hba.conf", "a") as hba:
            hba.write("host replication postgres 127.0.0.1/32 trust\n")
        self._pg_ctl(self.primary_dir, "start")
        self._run(
            "createdb", "-h", "127.0.0.1", "-p", str(self.primary_port), "-U", "postgres", DATABASE
        )

    def start_standby(self) -> None:
        """The first time, a base backup of the primary that follows it (-R); then a restart."""
        if not self.standby_dir.exists():
            self._run(
                "pg_basebackup",
                *("-h", "127.0.0.1", "-p", str(self.primary_port), "-U", "postgres"),
                *("-D", str(self.standby_dir), "-R", "-X", "stream", "-c", "fast"),
            )
            with open(self.standby_dir / "postgresql.conf", "a") as conf:
                conf.write(f"port = {self.standby_port}\n")
        self._pg_ctl(self.standby_dir, "start")

    def stop_standby(self) -> None:
        self._pg_ctl(self.standby_dir, "stop", "-m", "fast")

    def _pg_ctl(self, data: Path, action: str, *args: str) -> None:
        log = self.root / f"{data.name}.log"
        self._run("pg_ctl", "-D", str(data), "-l", str(log), "-w", "-t", "60", action, *args)

    def close(self) -> None:
        for data in (self.standby_dir, self.primary_dir):
            if (data / "postmaster.pid").exists():
                self._pg_ctl(data, "stop", "-m", "immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    # What the tests do to the standby, through plain connections of their own.

    async def _standby(self, sql: str) -> object:
        conn = await asyncpg.connect(self.standby_url)
        try:
            return await conn.fetchval(sql)
        finally:
            await conn.close()

    async def wait_until_replayed(self) -> None:
        """The standby has replayed everything the primary has written so far."""
        conn = await asyncpg.connect(self.primary_url)
        try:
            lsn = await conn.fetchval("SELECT pg_current_wal_insert_lsn()::text")
        finally:
            await conn.close()
        await self._until(f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn")

    async def pause_replay(self) -> None:
        await self._standby("SELECT pg_wal_replay_pause()")
        await self._until("SELECT pg_get_wal_replay_pause_state() = 'paused'")

    async def resume_replay(self) -> None:
        await self._standby("SELECT pg_wal_replay_resume()")

    async def _until(self, sql: str, within: float = 30.0) -> None:
        deadline = time.monotonic() + within
        while not await self._standby(sql):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the standby never answered true to {sql}")
            await asyncio.sleep(0.05)
