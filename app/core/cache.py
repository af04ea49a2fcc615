"""A response cache of public replies: in process, in front of Redis (shared by every
instance), both on the same generations.

Each namespace has a generation counter; an entry is read under one or more namespaces (a job's
page under everything about jobs and that one job) and only counts while it was stored under all
their current generations. A write that changes what a namespace shows calls
`invalidate_on_commit(session, namespace)`: the writing transaction NOTIFYs CACHE_CHANNEL
with the namespace (PostgreSQL delivers it to every instance's LISTEN connection when, and only
if, it commits), and right after the commit the generation is bumped in Redis and in this
process (before the response is sent). Readers take the generations *before* they query the
database (`lookup`) and store under them (`store`): a reader racing a write stores its result
under the old generation, where nobody will read it.

The copy in process is trusted only while the invalidation signal is up (`signal_up`: the
instance's LISTEN connection, app/events/hub.py, holds CACHE_CHANNEL) and only for entries
stored since it last came up: a notification missed while the connection was down cannot leave
a stale copy, since `signal_lost` distrusts every entry and lookups go to Redis again. A hit
there makes no round trip at all. A reply read from Redis is kept in process too, except
within SETTLE_SECONDS of a NOTIFY for its namespace: a reader may get the NOTIFY before the
writer's Redis bump, and read the old entry under the old generation in that gap.

Without Redis (disabled, or down: RedisState.mark_failed) the process's own entries serve
alone, with a short TTL that bounds staleness across instances. Invalidations that could not
reach Redis are replayed on it as soon as it answers again.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, cast

from fastapi import Depends, Request
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.util import await_only

from app.core.http_cache import PublicReply
from app.core.json import json_bytes
from app.core.redis import RedisState, redis_errors
from app.core.services import core_services

if TYPE_CHECKING:
    from redis.asyncio import Redis

_PENDING_KEY = "cache_invalidations"
_LISTENING_KEY = "cache_listening"

# The channel every instance LISTENs on for the namespaces a committed write changed.
CACHE_CHANNEL = "hmb_cache"


Generations = tuple[int, ...]  # one per namespace an entry is read under, in order


@dataclass(frozen=True)
class Lookup:
    """The result of a cache read: the entry (or None) and the generations it was read under
    (Redis's, this process's, and the signal's epoch: None while it is down)."""

    value: PublicReply | None
    generation: Generations
    local_generation: Generations = ()
    epoch: int | None = None


@dataclass(frozen=True)
class _Entry:
    expires: float
    generation: Generations
    epoch: int | None
    reply: PublicReply


class Cache:
    LOCAL_MAX_ENTRIES = 1024
    # A write's NOTIFY reaches readers when it commits, its Redis bump a round trip later: an
    # entry read from Redis that soon after a NOTIFY may be the old one, so is not kept here.
    SETTLE_SECONDS = 1.0

    def __init__(self, redis: RedisState, prefix: str = "cache") -> None:
        self._redis = redis
        self._prefix = prefix
        self._local: OrderedDict[str, _Entry] = OrderedDict()
        self._local_generations: dict[str, int] = {}
        # Namespaces invalidated while Redis was unreachable: bumped there once it answers.
        self._unsent: set[str] = set()
        # The invalidation signal: its epoch changes whenever it comes up or is lost.
        self._epoch = 0
        self._trusted = False
        self._want_signal: Callable[[], None] | None = None
        self._notified: dict[str, float] = {}

    def follow(self, start_signal: Callable[[], None]) -> None:
        """`start_signal` starts what will call `signal_up` (called on the first lookup made
        while the signal is down, so nothing connects before a public page is read)."""
        self._want_signal = start_signal

    def signal_up(self) -> None:
        """Every instance's invalidations now reach `dropped`: entries stored from now on are
        trusted while it stays up."""
        self._epoch += 1
        self._trusted = True

    def signal_lost(self) -> None:
        """Invalidations may be missed: no entry in process is trusted any more."""
        self._epoch += 1
        self._trusted = False

    def dropped(self, namespace: str) -> None:
        """A write on some instance changed `namespace` (its NOTIFY arrived)."""
        self._local_generations[namespace] = self._local_generations.get(namespace, 0) + 1
        self._notified[namespace] = time.monotonic()

    def _settled(self, namespaces: tuple[str, ...], since: float) -> bool:
        """No write's NOTIFY for any of `namespaces` arrived in the SETTLE_SECONDS before
        `since`: their writers have bumped the generations in Redis, so an entry read there now
        is current."""
        last = max(self._notified.get(n, -self.SETTLE_SECONDS) for n in namespaces)
        return since - last >= self.SETTLE_SECONDS

    def _generation_key(self, namespace: str) -> str:
        return f"{self._prefix}:{namespace}:generation"

    def _entry_key(self, namespaces: tuple[str, ...], key: str) -> str:
        return f"{self._prefix}:{'+'.join(namespaces)}:entry:{key}"

    async def _flush_unsent(self, client: Redis) -> None:
        """Bump in Redis every namespace invalidated while it was unreachable. They stay queued
        until Redis has them, however many attempts fail first (a bump sent twice only costs
        one more miss)."""
        if self._unsent:
            namespaces = set(self._unsent)
            async with client.pipeline(transaction=False) as pipe:
                for namespace in namespaces:
                    pipe.incr(self._generation_key(namespace))
                await pipe.execute()
            self._unsent -= namespaces

    async def lookup(self, namespaces: tuple[str, ...], key: str) -> Lookup:
        started = time.monotonic()
        local_generation = tuple(self._local_generations.get(n, 0) for n in namespaces)
        epoch = self._epoch if self._trusted else None
        full_key = self._entry_key(namespaces, key)
        if epoch is not None:
            reply = self._local_reply(full_key, local_generation, epoch)
            if reply is not None:
                return Lookup(reply, (), local_generation, epoch)
        elif self._want_signal is not None:
            self._want_signal()
        client = self._redis.client()
        if client is not None:
            try:
                await self._flush_unsent(client)
                *raw_generations, raw_entry = await client.mget(
                    *(self._generation_key(n) for n in namespaces), full_key
                )
            except redis_errors() as exc:
                self._redis.mark_failed(exc)
            else:
                self._redis.mark_ok()
                generation = tuple(int(raw or 0) for raw in raw_generations)
                entry = _decode(raw_entry, generation, local_generation, epoch)
                if entry is None:
                    return Lookup(None, generation, local_generation, epoch)
                if epoch is not None and self._settled(namespaces, started):
                    self._keep(full_key, entry)
                return Lookup(entry.reply, generation, local_generation, epoch)
        reply = self._local_reply(full_key, local_generation, None)
        return Lookup(reply, (), local_generation, epoch)

    def _local_reply(
        self, full_key: str, generation: Generations, epoch: int | None
    ) -> PublicReply | None:
        """The entry kept in process, if stored under `generation` and not expired, and (unless
        `epoch` is None: Redis is unreachable) stored while the signal was up at `epoch`."""
        entry = self._local.get(full_key)
        if entry is None:
            return None
        if entry.generation == generation and entry.expires > time.monotonic():
            if epoch is None or entry.epoch == epoch:
                self._local.move_to_end(full_key)
                return entry.reply
            return None
        del self._local[full_key]
        return None

    async def store(
        self, namespaces: tuple[str, ...], key: str, value: bytes, *, read: Lookup, ttl: float
    ) -> PublicReply:
        """Keep `value`, read from the database after `read` missed, for at most `ttl`
        seconds under the generations `read` was made under; return it as a reply."""
        reply = PublicReply(value)
        if ttl <= 0:
            return reply
        full_key = self._entry_key(namespaces, key)
        client = self._redis.client()
        if client is not None and read.generation:
            expires_at = b"%.3f" % (time.time() + ttl)
            try:
                await client.set(
                    full_key,
                    b"\n".join((_encode(read.generation), expires_at, reply.etag.encode(), value)),
                    px=max(1, int(ttl * 1000)),
                )
            except redis_errors() as exc:
                self._redis.mark_failed(exc)
        self._keep(
            full_key, _Entry(time.monotonic() + ttl, read.local_generation, read.epoch, reply)
        )
        return reply

    def _keep(self, full_key: str, entry: _Entry) -> None:
        self._local[full_key] = entry
        self._local.move_to_end(full_key)
        while len(self._local) > self.LOCAL_MAX_ENTRIES:
            self._local.popitem(last=False)

    async def invalidate(self, *namespaces: str) -> None:
        for namespace in namespaces:
            self._local_generations[namespace] = self._local_generations.get(namespace, 0) + 1
        self._unsent.update(namespaces)
        client = self._redis.client()
        if client is None:
            return
        try:
            await self._flush_unsent(client)
        except redis_errors() as exc:
            self._redis.mark_failed(exc)
        else:
            self._redis.mark_ok()

    def invalidate_on_commit(self, session: AsyncSession, *namespaces: str) -> None:
        """Invalidate `namespaces` once `session` commits (and only if it does): its
        transaction NOTIFYs every instance, and Redis and this process are bumped after it."""
        sync_session = session.sync_session
        if _LISTENING_KEY not in sync_session.info:
            sync_session.info[_LISTENING_KEY] = True
            event.listen(sync_session, "before_commit", _notify)
            event.listen(sync_session, "after_commit", self._after_commit)
            event.listen(sync_session, "after_rollback", _forget_pending)
        sync_session.info.setdefault(_PENDING_KEY, set()).update(namespaces)

    def _after_commit(self, sync_session: Session) -> None:
        pending = sync_session.info.pop(_PENDING_KEY, None)
        if pending:
            # The commit runs inside SQLAlchemy's greenlet bridge, so the coroutine can be
            # awaited here: it finishes before the response is sent.
            await_only(self.invalidate(*sorted(pending)))


def _encode(generation: Generations) -> bytes:
    return b".".join(b"%d" % g for g in generation)


def _decode(
    raw: object, generation: Generations, local_generation: Generations, epoch: int | None
) -> _Entry | None:
    """An entry as Redis holds it (generation, expiry, ETag, body), if stored under
    `generation`; as an entry of this process under its own generations."""
    if raw is None:
        return None
    # Responses are not decoded (redis-py's types allow str as well).
    parts = cast(bytes, raw).split(b"\n", 3)
    if len(parts) != 4 or parts[0] != _encode(generation):
        return None  # another generation's, or an older release's entry (a rolling deploy)
    _, expires_at, etag, body = parts
    expires = time.monotonic() + float(expires_at) - time.time()
    return _Entry(expires, local_generation, epoch, PublicReply(body, etag.decode()))


def _notify(sync_session: Session) -> None:
    """In the writing transaction: PostgreSQL delivers the NOTIFY when it commits."""
    pending = sync_session.info.get(_PENDING_KEY)
    if pending:
        notices = [func.pg_notify(CACHE_CHANNEL, namespace) for namespace in sorted(pending)]
        sync_session.execute(select(*notices))


def _forget_pending(sync_session: Session) -> None:
    sync_session.info.pop(_PENDING_KEY, None)


async def get_cache(request: Request) -> Cache:  # async: no thread-pool hop
    return core_services(request).cache


CacheDep = Annotated[Cache, Depends(get_cache)]


def cache_key(*parts: object) -> str:
    return hashlib.sha256(json_bytes(parts)).hexdigest()
