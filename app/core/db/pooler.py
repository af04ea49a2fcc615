"""asyncpg's connection arguments behind PgBouncer in transaction mode (Neon's "-pooler"
endpoint), where every transaction, and every statement outside one, may run on a different
server connection, and whatever a statement leaves on its server connection stays there for the
pooler's next client.

- No statement cache, and every statement unnamed: asyncpg prepares it (Parse, Describe, Flush:
  no Sync, so the pooler keeps the same server linked) and then sends Parse again with its
  Bind, Execute and Sync, so the run never depends on an earlier message's server connection.
  2 round trips per statement, no BEGIN and COMMIT needed around a read, and nothing to close
  later. A named statement (asyncpg's default, or a unique name each time) needs its prepare
  and run on one server connection, and its later Close reaches whichever server connection
  the pooler hands out then (closing an unknown name is no error): the statement stays on the
  one that prepared it until the pooler closes that connection (tests/faults/test_pgbouncer.py).
- A type asyncpg has no codec for yet (varchar[] among them) is looked up once per connection
  with three statements: `jit` switched off for the session, the lookup, `jit` restored. Outside
  a transaction those may land on three server connections and leave `jit = off` on one of
  them for every later client of the pooler, so the lookup runs in a transaction of its own.
"""

from __future__ import annotations

from typing import Any

import asyncpg


class PoolerConnection(asyncpg.Connection):
    """An asyncpg connection whose type lookups run in a transaction (see the module)."""

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
