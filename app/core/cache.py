"""A response cache in Redis (shared by every instance) with an in-process fallback.

Entries live in namespaces; each namespace has a generation counter, and an entry only counts
while it was stored under the current generation. A write that changes what a namespace shows
calls `invalidate_on_commit(session, namespace)`: the generation is bumped right after the
transaction commits (before the response is sent), so no reader is served the old data from
then on. Readers take the generation *before* they query the database (`lookup`), and store
under that generation (`store`): a reader racing a write stores its result under the old
generation, where nobody will read it.

Without Redis (disabled, or down: RedisState.mark_failed) the same logic runs on a bounded
in-process store. Invalidations that could not reach Redis are replayed on it as soon as it
answers again, and every entry has a short TTL that bounds staleness across instances.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Request
from redis.asyncio import Redis
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.util import await_only

from app.core.json import json_bytes
from app.core.redis import REDIS_ERRORS, RedisState
from app.core.services import core_services

_PENDING_KEY = "cache_invalidations"
_LISTENING_KEY = "cache_listening"


@dataclass(frozen=True)
class Lookup:
    """The result of a cache read: the entry (or None) and the generation it was read under."""

    value: bytes | None
    generation: int


class Cache:
    LOCAL_MAX_ENTRIES = 1024

    def __init__(self, redis: RedisState, prefix: str = "cache") -> None:
        self._redis = redis
        self._prefix = prefix
        self._local: OrderedDict[str, tuple[float, int, bytes]] = OrderedDict()
        self._local_generations: dict[str, int] = {}
        # Namespaces invalidated while Redis was unreachable: bumped there once it answers.
        self._unsent: set[str] = set()

    def _generation_key(self, namespace: str) -> str:
        return f"{self._prefix}:{namespace}:generation"

    def _entry_key(self, namespace: str, key: str) -> str:
        return f"{self._prefix}:{namespace}:entry:{key}"

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

    async def lookup(self, namespace: str, key: str) -> Lookup:
        client = self._redis.client()
        if client is not None:
            try:
                await self._flush_unsent(client)
                raw_generation, raw_entry = await client.mget(
                    self._generation_key(namespace), self._entry_key(namespace, key)
                )
            except REDIS_ERRORS as exc:
                self._redis.mark_failed(exc)
            else:
                self._redis.mark_ok()
                generation = int(raw_generation or 0)
                if raw_entry is not None:
                    # Responses are not decoded (redis-py's types allow str as well).
                    stored_generation, _, payload = cast(bytes, raw_entry).partition(b"\n")
                    if int(stored_generation) == generation:
                        return Lookup(payload, generation)
                return Lookup(None, generation)
        return self._local_lookup(namespace, key)

    def _local_lookup(self, namespace: str, key: str) -> Lookup:
        generation = self._local_generations.get(namespace, 0)
        full_key = self._entry_key(namespace, key)
        entry = self._local.get(full_key)
        if entry is not None:
            expires, stored_generation, payload = entry
            if stored_generation == generation and expires > time.monotonic():
                self._local.move_to_end(full_key)
                return Lookup(payload, generation)
            del self._local[full_key]
        return Lookup(None, generation)

    async def store(
        self, namespace: str, key: str, value: bytes, *, generation: int, ttl: float
    ) -> None:
        """Keep `value` for at most `ttl` seconds, under the generation `lookup` returned."""
        if ttl <= 0:
            return
        client = self._redis.client()
        if client is not None:
            try:
                await client.set(
                    self._entry_key(namespace, key),
                    str(generation).encode() + b"\n" + value,
                    px=max(1, int(ttl * 1000)),
                )
            except REDIS_ERRORS as exc:
                self._redis.mark_failed(exc)
            else:
                return
        full_key = self._entry_key(namespace, key)
        self._local[full_key] = (time.monotonic() + ttl, generation, value)
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
        except REDIS_ERRORS as exc:
            self._redis.mark_failed(exc)
        else:
            self._redis.mark_ok()

    def invalidate_on_commit(self, session: AsyncSession, *namespaces: str) -> None:
        """Invalidate `namespaces` once `session` commits (and only if it does)."""
        sync_session = session.sync_session
        if _LISTENING_KEY not in sync_session.info:
            sync_session.info[_LISTENING_KEY] = True
            event.listen(sync_session, "after_commit", self._after_commit)
            event.listen(sync_session, "after_rollback", _forget_pending)
        sync_session.info.setdefault(_PENDING_KEY, set()).update(namespaces)

    def _after_commit(self, sync_session: Session) -> None:
        pending = sync_session.info.pop(_PENDING_KEY, None)
        if pending:
            # The commit runs inside SQLAlchemy's greenlet bridge, so the coroutine can be
            # awaited here: it finishes before the response is sent.
            await_only(self.invalidate(*sorted(pending)))


def _forget_pending(sync_session: Session) -> None:
    sync_session.info.pop(_PENDING_KEY, None)


async def get_cache(request: Request) -> Cache:  # async: no thread-pool hop
    return core_services(request).cache


CacheDep = Annotated[Cache, Depends(get_cache)]


def cache_key(*parts: object) -> str:
    return hashlib.sha256(json_bytes(parts)).hexdigest()
