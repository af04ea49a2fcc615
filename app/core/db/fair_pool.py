"""The connection pool's queue, first come first served: a connection given back goes straight
to the request that has waited longest for one.

SQLAlchemy's asyncio pool queue (`AsyncAdaptedQueue` over `asyncio.Queue`) lets newcomers barge.
A connection given back is put in the queue and the first waiter is only woken; before it runs,
a request that has just arrived takes the connection without waiting (`get_nowait`), and the
woken waiter, finding the queue empty, joins the back of the line again. Under steady load (64
requests, 10 connections) some requests lost that race many times over: p99 ran 5-16x the p50
(docs/performance.md, "Fair tails"). Here a connection given back while anyone waits is handed
to the oldest waiter's future, never left in the queue for a newcomer, so checkouts are served
in arrival order; and the queue counts the checkouts that had to wait and for how long
(`/metrics`: `db_pool_waits`, `db_pool_wait_seconds`).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any

from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry
from sqlalchemy.util import await_
from sqlalchemy.util.queue import Empty, Full, QueueCommon


def _expire(waiter: asyncio.Future[Any]) -> None:
    if not waiter.done():
        waiter.set_exception(Empty())


class FairQueue(QueueCommon[ConnectionPoolEntry]):
    """A FIFO of idle connections with a FIFO of waiting checkouts: `put` hands an item to the
    oldest waiter still waiting, so an item sits in the queue only while nobody waits."""

    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        self.maxsize = maxsize
        self.use_lifo = use_lifo
        self._items: deque[ConnectionPoolEntry] = deque()
        self._waiters: deque[asyncio.Future[ConnectionPoolEntry]] = deque()
        self.waits = 0
        self.wait_seconds = 0.0

    def empty(self) -> bool:
        return not self._items

    def full(self) -> bool:
        return 0 < self.maxsize <= len(self._items)

    def qsize(self) -> int:
        return len(self._items)

    @property
    def waiting(self) -> int:
        """Checkouts waiting now for a connection."""
        return sum(not waiter.done() for waiter in self._waiters)

    def put_nowait(self, item: ConnectionPoolEntry) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():  # not timed out or cancelled
                waiter.set_result(item)
                return
        if self.full():
            raise Full()
        self._items.append(item)

    def put(
        self, item: ConnectionPoolEntry, block: bool = True, timeout: float | None = None
    ) -> None:
        # Never needs to block: an item goes to a waiter or into the queue (or Full, which
        # QueuePool answers by closing the connection).
        self.put_nowait(item)

    def get_nowait(self) -> ConnectionPoolEntry:
        if not self._items:
            raise Empty()
        return self._items.pop() if self.use_lifo else self._items.popleft()

    def get(self, block: bool = True, timeout: float | None = None) -> ConnectionPoolEntry:
        # An idle item means nobody is waiting (put hands items to waiters first): no barging.
        if self._items or not block:
            return self.get_nowait()
        return await_(self._wait(timeout))

    async def _wait(self, patience: float | None) -> ConnectionPoolEntry:
        """Wait at most `patience` seconds (DB_POOL_TIMEOUT) to be handed a connection."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[ConnectionPoolEntry] = loop.create_future()
        self._waiters.append(waiter)
        timer = None if patience is None else loop.call_later(patience, _expire, waiter)
        started = time.perf_counter()
        try:
            return await waiter
        except asyncio.CancelledError:
            # The request was cancelled just after a connection was handed to it: pass it on.
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self.put_nowait(waiter.result())
            raise
        finally:
            if timer is not None:
                timer.cancel()
            self.waits += 1
            self.wait_seconds += time.perf_counter() - started


class FairQueuePool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio QueuePool (size, overflow, timeout, recycle, events) over
    `FairQueue`."""

    _queue_class = FairQueue

    @property
    def queue(self) -> FairQueue:
        queue = self._pool
        assert isinstance(queue, FairQueue)
        return queue
