"""Which driver failures mean "the database cannot be reached", and the engine hooks that say so.

asyncpg raises network failures as plain OSErrors (TimeoutError included), which could come
from anything; the hooks here turn the ones that come from the database connection into
DatabaseUnreachable, so that only they count as an outage.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine


class DatabaseUnreachable(Exception):
    """The way to the database failed: refused, reset, unknown host, or no answer within a
    deadline.

    `connection_lost`: one established connection was found dropped (the server ended it, a
    proxy cut it). The request that found it gets a 503, the pool replaces its connections, and
    the database is not marked down: the next request connects afresh."""

    def __init__(self, reason: str, *, connection_lost: bool = False) -> None:
        super().__init__(reason)
        self.connection_lost = connection_lost


# What the first statement on a pooled connection raises when the server dropped it while it
# sat idle and asyncpg has not taken in the news yet (the server's goodbye, still unread, is an
# error the connection did not expect): the connection is gone, the database may well be fine.
DROPPED_CONNECTION = (
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)

# Failures that mean "the database cannot be reached right now", as opposed to a bug in a
# query: 503 DATABASE_UNAVAILABLE and the fail-fast window. Nothing here is a bare OSError: a
# Redis or SMTP failure inside a route is that route's error, not a database outage.
DATABASE_UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
    sa_exc.DisconnectionError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,
    DatabaseUnreachable,
)

# What the server answers a login it will not take now: the database does not exist (dropped,
# a deleted Neon branch), the role or its password is refused, no connection slot is free, it is
# starting or shutting down. asyncpg raises them as server errors, which SQLAlchemy would pass
# on as a query's error (a 500); to a request they are the database being unavailable.
_LOGIN_REFUSED = (
    asyncpg.InvalidCatalogNameError,
    asyncpg.InvalidAuthorizationSpecificationError,
    asyncpg.TooManyConnectionsError,
    asyncpg.CannotConnectNowError,
)


def describe(exc: BaseException) -> str:
    # asyncpg's timeouts say nothing
    return f"{type(exc).__name__}: {str(exc) or 'no answer within the timeout'}"


async def _connect(*args: Any, **kwargs: Any) -> asyncpg.Connection:
    """asyncpg.connect, with its network failures (refused, unknown host, DB_CONNECT_TIMEOUT)
    and the server's refusals of the login marked as the database's."""
    try:
        return await asyncpg.connect(*args, **kwargs)
    except (OSError, *_LOGIN_REFUSED) as exc:
        raise DatabaseUnreachable(describe(exc)) from exc


def classify_driver_errors(engine: AsyncEngine) -> None:
    """Errors raised while a statement, BEGIN or COMMIT runs on a connection: a plain OSError
    there (a reset, a DB_COMMAND_TIMEOUT deadline) and a connection dropped under asyncpg's feet
    are the database's; the connection is discarded. A timeout discards only that connection;
    a reset or a drop makes the pool replace every connection it holds (they likely share the
    cause), as SQLAlchemy does for the disconnects it recognises itself."""

    @event.listens_for(engine.sync_engine, "handle_error")
    def classify(context: ExceptionContext) -> BaseException | None:
        original = context.original_exception
        driver_error = original.__cause__ or original  # the adapter's error wraps asyncpg's
        lost = isinstance(driver_error, DROPPED_CONNECTION)
        if isinstance(original, TimeoutError):
            context.is_disconnect = True
            context.invalidate_pool_on_disconnect = False
        elif lost or isinstance(driver_error, OSError) or context.is_disconnect:
            context.is_disconnect = True
        else:
            return None
        return DatabaseUnreachable(describe(driver_error), connection_lost=lost)

    @event.listens_for(engine.sync_engine, "do_connect")
    def connect(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        cparams["async_creator_fn"] = _connect
