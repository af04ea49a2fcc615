"""The instance's side of live events: one dedicated asyncpg connection LISTENing on CHANNEL
(not a pooled one: a LISTEN lives as long as its session, and PgBouncer's transaction mode
cannot carry it), and the streams open on this instance, woken when their user has news.

A stream holds no database connection while it waits: it sleeps on an asyncio.Event, and on
waking reads the new events with a short session of the app's pool. Lost notifications cannot
lose events: a stream always reads everything past the last id it sent, and after the listener
reconnects every stream is woken to catch up.

The same connection LISTENs on the channels of the copies kept in process (`carry`): the
response cache's CACHE_CHANNEL (a write on any instance drops the namespaces it changed,
app/core/cache.py) and the checked callers' CALLERS_CHANNEL (app/identity/known_callers.py).
Each copy is trusted only while this connection holds the LISTEN.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import asyncpg

from app.core.config import Settings
from app.core.db import DatabaseURLError, parse_database_url
from app.core.errors import RateLimited
from app.core.services import ServiceKey
from app.events.models import CHANNEL

logger = logging.getLogger("app.events")

_RECONNECT_SECONDS = (0.5, 1, 2, 5)
_PING_SECONDS = 15
_CONNECTION_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)

# Every hub of this process, told when the server starts its graceful shutdown
# (app/server/worker.py): open streams end then, or the server would wait on them until its
# graceful timeout.
_hubs: weakref.WeakSet[EventHub] = weakref.WeakSet()


def shutdown_signal_received() -> None:
    for hub in list(_hubs):
        hub.close_soon()


class StreamLimit(RateLimited):
    error_code = "TOO_MANY_STREAMS"


class Follower(Protocol):
    """What trusts copies only while the LISTEN holds, and drops them on a notification."""

    def follow(self, start_signal: Callable[[], None]) -> None: ...
    def signal_up(self) -> None: ...
    def signal_lost(self) -> None: ...
    def dropped(self, payload: str) -> None: ...


@dataclass(eq=False)
class Subscription:
    user_id: int
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    closed: bool = False


class EventHub:
    def __init__(
        self, dsn: str | None, connect_args: dict[str, Any], *, max_streams: int, max_per_user: int
    ) -> None:
        self._dsn = dsn
        self._connect_args = connect_args
        self.max_streams = max_streams
        self.max_per_user = max_per_user
        self._streams: dict[int, set[Subscription]] = {}
        self._count = 0
        self._listener: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.listening = asyncio.Event()
        self.closing = False
        self._carried: dict[str, Follower] = {}
        _hubs.add(self)

    def carry(self, channel: str, follower: Follower) -> None:
        """Carry `channel`'s notifications to `follower`: listening starts when it first asks
        (app/core/cache.py, app/identity/known_callers.py)."""
        if self._dsn is not None:
            self._carried[channel] = follower
            follower.follow(self._ensure_listener)

    @classmethod
    def from_settings(cls, settings: Settings) -> EventHub:
        """Listening on MIGRATION_DATABASE_URL when set (Neon's direct endpoint: a LISTEN
        needs a session of its own, which a transaction-mode pooler cannot give), else on
        DATABASE_URL, unless that goes through the pooler: a LISTEN there would seem to hold
        while the pooler hands its server connection to other clients, and the cache would
        trust copies no notification reaches. Then there is no listener (logged): live streams
        only catch up when they reconnect, and the cache reads Redis."""
        dsn, connect_args = None, {}
        try:
            target = parse_database_url(
                settings.migration_database_url or settings.database_url,
                pgbouncer=settings.db_pgbouncer,
            )
        except DatabaseURLError:
            pass  # the app reports the bad URL; live events simply have no listener
        else:
            if target.pgbouncer and settings.migration_database_url is None:
                logger.error(
                    "DATABASE_URL goes through PgBouncer and MIGRATION_DATABASE_URL (the direct "
                    "endpoint) is not set: no LISTEN connection, so live events wait for a "
                    "reconnect and every instance's cached pages are read from Redis"
                )
            else:
                dsn = target.url.set(drivername="postgresql").render_as_string(hide_password=False)
                connect_args = {
                    **{k: v for k, v in target.connect_args.items() if k == "ssl"},
                    "timeout": settings.db_connect_timeout,
                }
        return cls(
            dsn,
            connect_args,
            max_streams=settings.events_max_streams,
            max_per_user=settings.events_max_streams_per_user,
        )

    @property
    def open_streams(self) -> int:
        return self._count

    def subscribe(self, user_id: int) -> Subscription:
        """A new stream for `user_id`, within the per-user and per-instance limits (429)."""
        if self.closing:
            raise StreamLimit(5, "The server is restarting; reconnect in a moment.")
        if self._count >= self.max_streams:
            raise StreamLimit(5, "This server holds as many live streams as it can; try later.")
        mine = self._streams.setdefault(user_id, set())
        if len(mine) >= self.max_per_user:
            raise StreamLimit(
                5, f"At most {self.max_per_user} live streams per account; close one first."
            )
        subscription = Subscription(user_id)
        mine.add(subscription)
        self._count += 1
        self._ensure_listener()
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        mine = self._streams.get(subscription.user_id)
        if mine is None or subscription not in mine:
            return  # already gone: the stream and the response's background both call this
        mine.discard(subscription)
        self._count -= 1
        if not mine:
            del self._streams[subscription.user_id]

    def wake(self, user_id: int | None = None) -> None:
        """Wake the streams of `user_id`, or all of them."""
        groups = self._streams.values() if user_id is None else [self._streams.get(user_id, ())]
        for group in groups:
            for subscription in group:
                subscription.wake.set()

    def close(self) -> None:
        """End every stream (each says goodbye and returns) and refuse new ones."""
        self.closing = True
        for group in self._streams.values():
            for subscription in group:
                subscription.closed = True
                subscription.wake.set()

    def close_soon(self) -> None:
        """`close` from a signal handler: run it on the hub's loop."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.close)
        else:
            self.closing = True

    async def aclose(self) -> None:
        self.close()
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None

    def _ensure_listener(self) -> None:
        if self.closing or self._dsn is None:
            return
        if self._listener is None or self._listener.done():
            self._loop = asyncio.get_running_loop()
            self._listener = asyncio.create_task(self._listen(), name="events-listener")

    def _notified(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            user_id = int(payload)
        except ValueError:
            return
        self.wake(user_id)

    async def _listen(self) -> None:
        """Hold the LISTEN connection while the hub is open; reconnect when it drops."""
        failures = 0
        while not self.closing and self._dsn is not None:
            try:
                connection = await asyncpg.connect(self._dsn, **self._connect_args)
            except _CONNECTION_ERRORS as exc:
                delay = _RECONNECT_SECONDS[min(failures, len(_RECONNECT_SECONDS) - 1)]
                failures += 1
                logger.warning("events listener cannot connect (%s); retrying in %s s", exc, delay)
                await asyncio.sleep(delay)
                continue
            if failures:
                logger.info("events listener reconnected")
            failures = 0
            try:
                await self._hold(connection)
            except _CONNECTION_ERRORS as exc:
                logger.warning("events listener failed (%s); reconnecting", exc)
            finally:
                self._lost()
                connection.terminate()

    def _lost(self) -> None:
        self.listening.clear()
        for follower in self._carried.values():
            follower.signal_lost()

    def _carry(self, _conn: object, _pid: int, channel: str, payload: str) -> None:
        self._carried[channel].dropped(payload)

    async def _hold(self, connection: asyncpg.Connection) -> None:
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _conn: lost.set())
        await connection.add_listener(CHANNEL, self._notified)  # type: ignore[arg-type]  # asyncpg-stubs type the payload object; a NOTIFY payload is text
        for channel in self._carried:
            await connection.add_listener(channel, self._carry)  # type: ignore[arg-type]  # as above
        self.listening.set()
        for follower in self._carried.values():
            follower.signal_up()
        logger.info("events listener listening on %s", ", ".join((CHANNEL, *self._carried)))
        # Whatever was announced while nobody listened is caught up now.
        self.wake()
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), _PING_SECONDS)
            if not lost.is_set():
                # A silent network drop raises nothing: ask the server now and then.
                await connection.execute("SELECT 1", timeout=_PING_SECONDS)
        logger.warning("events listener lost its connection; reconnecting")


EVENT_HUB: ServiceKey[EventHub] = ServiceKey("events")
