"""asyncpg's connection arguments behind PgBouncer in transaction mode (Neon's "-pooler"
endpoint), where every transaction, and every statement outside one, may run on a different
server connection, and whatever a statement leaves on its server connection stays there for the
pooler's next client.

- Every statement unnamed, and asyncpg's statement cache off: asyncpg prepares a statement
  (Parse, Describe, Flush: no Sync, so the pooler keeps the same server linked) to learn its
  parameter and column types, marks it unprepared, and sends its Parse again with every Bind,
  Execute and Sync, so a run never depends on an earlier message's server connection and
  nothing is left to close. `PoolerConnection` keeps those unprepared statements (for the reads
  through the driver and SQLAlchemy's alike), so only a connection's first run of a statement
  pays the prepare: 1 round trip per statement after that (2 the first time), and no BEGIN and
  COMMIT around a read. A named statement (asyncpg's default, or a unique name each time) needs
  its prepare and run on one server connection, and its later Close reaches whichever server
  connection the pooler hands out then (closing an unknown name is no error): the statement
  stays on the one that prepared it until the pooler closes that connection
  (tests/faults/test_pgbouncer.py).
- The types a kept statement learned are trusted for KEPT_SECONDS: a run re-parsed from
  scratch cannot be told by the server that a column's type changed under it (a named
  statement on a direct connection can, and asyncpg then prepares it again), so after a
  migration that changes the type of a column the running code reads, its statements fail
  until they are prepared again. Such a migration is deployed in two steps (a new column, then
  the old one dropped), as rolling deploys need anyway (docs/deployment.md).
- A type asyncpg has no codec for yet (varchar[] among them) is looked up once per connection
  with three statements: `jit` switched off for the session, the lookup, `jit` restored. Outside
  a transaction those may land on three server connections and leave `jit = off` on one of
  them for every later client of the pooler, so the lookup runs in a transaction of its own.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

import asyncpg


class PoolerConnection(asyncpg.Connection):
    """An asyncpg connection that keeps its unnamed statements and runs its type lookups in a
    transaction (see the module)."""

    KEPT_STATEMENTS = 256
    KEPT_SECONDS = 60.0  # as asyncpg's own cache keeps a statement 300 s at most

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._kept: OrderedDict[tuple[Any, ...], tuple[Any, float]] = OrderedDict()

    async def _get_statement(
        self,
        query: str,
        timeout: Any,  # noqa: ASYNC109 - asyncpg's own signature
        **options: Any,
    ) -> Any:
        # A private asyncpg method (asyncpg is pinned in requirements/): where both `fetch` and
        # `prepare` find or make a statement. Here each one made is unnamed and unprepared, so
        # reusing it only saves the prepare's round trip; asyncpg re-parses it with each run.
        key = (query, options.get("record_class"), options.get("ignore_custom_codec", False))
        now = time.monotonic()
        kept, since = self._kept.get(key, (None, now))
        if kept is not None and not kept.closed and now - since < self.KEPT_SECONDS:
            self._kept.move_to_end(key)
            return kept
        get_statement = super()._get_statement  # type: ignore[misc] # private, not in the stubs
        statement = await get_statement(query, timeout, **options)
        if not statement.name:
            self._kept[key] = (statement, now)
            self._kept.move_to_end(key)
            if len(self._kept) > self.KEPT_STATEMENTS:
                self._kept.popitem(last=False)
        return statement

    def _drop_local_statement_cache(self) -> None:
        # asyncpg's answer to a changed schema (reload_schema_state): ours goes with its own.
        super()._drop_local_statement_cache()  # type: ignore[misc] # private, not in the stubs
        self._kept.clear()

    async def _introspect_types(self, *args: Any) -> Any:
        # A private asyncpg method (asyncpg is pinned in requirements/): the one place that
        # issues the three statements. Inside a request's transaction it already is atomic.
        introspect = super()._introspect_types  # type: ignore[misc] # private, not in the stubs
        if self.is_in_transaction():
            return await introspect(*args)
        async with self.transaction():
            return await introspect(*args)


def _unnamed_statement() -> str:
    return ""


POOLER_CONNECT_ARGS: dict[str, Any] = {
    "statement_cache_size": 0,
    "prepared_statement_cache_size": 0,
    "prepared_statement_name_func": _unnamed_statement,
    "connection_class": PoolerConnection,
}
