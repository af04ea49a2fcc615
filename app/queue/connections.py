"""The worker's psycopg pool for Procrastinate, at one round trip per queue statement.

Procrastinate's default pool costs four round trips for each of its statements (fetch a job,
finish a job, ...): psycopg_pool's liveness check (an empty query) on every checkout, then
BEGIN, the statement, and COMMIT. Here connections are in autocommit, which is safe because
each of Procrastinate's statements is one call of its SQL functions, atomic by itself (its
LISTEN connection is autocommit already); and the check runs only on a connection that has not
been handed out for CHECK_AFTER_SECONDS, as the app's own engine pings only a connection idle
that long (app/core/db/engine.py). Under load a connection is reused within milliseconds and
a check would be a round trip per statement; after a quiet spell (a restart, a proxy's idle
cut, Neon suspending) the check still finds a dead connection before a job does.
"""

from __future__ import annotations

import time
import weakref
from typing import Any

import psycopg
import psycopg_pool

CHECK_AFTER_SECONDS = 1.0


class _CheckWhenIdle:
    """psycopg_pool's `check`, skipped for a connection handed out less than
    CHECK_AFTER_SECONDS ago. Procrastinate holds a pooled connection for one statement only,
    so "handed out" is "used"."""

    def __init__(self) -> None:
        self._handed_out: weakref.WeakKeyDictionary[psycopg.AsyncConnection[Any], float] = (
            weakref.WeakKeyDictionary()
        )

    async def __call__(self, connection: psycopg.AsyncConnection[Any]) -> None:
        now = time.monotonic()
        last = self._handed_out.get(connection)
        self._handed_out[connection] = now
        if last is None or now - last >= CHECK_AFTER_SECONDS:
            await psycopg_pool.AsyncConnectionPool.check_connection(connection)


async def _autocommit(connection: psycopg.AsyncConnection[Any]) -> None:
    await connection.set_autocommit(True)  # no round trip: psycopg only stops sending BEGIN


def queue_pool(**options: Any) -> psycopg_pool.AsyncConnectionPool[Any]:
    """Procrastinate's `pool_factory`: its options, with the check and autocommit above."""
    return psycopg_pool.AsyncConnectionPool(
        **{**options, "check": _CheckWhenIdle(), "configure": _autocommit}
    )
