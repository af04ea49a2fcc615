"""A TCP proxy that puts a server at a distance: a fixed one-way delay each way, and round trips
counted on the wire (bench/wire.py).

    with DelayProxy(("127.0.0.1", 5432), delay=0.001, wire=PostgresWire) as proxy:
        ... connect to 127.0.0.1:proxy.port ...
        before = proxy.counts(); ...; used = proxy.counts() - before

Every chunk read from one side is written to the other `delay` seconds after it arrived, in
the order it arrived (one queue per direction of each connection; a connection's close follows
its last bytes), so a round trip through it takes at least 2 x `delay` more than without it.
With `delay` 0 it forwards at once and only counts.

It runs its own event loop in a thread, on select() rather than epoll: epoll's timeout is in
whole milliseconds, which would turn a 0.5 ms delay into ~1 ms; select's is in microseconds
(and it watches descriptors below 1024 only: plenty for the bench's few hundred sockets). How
late the loop delivered (on a busy machine) is in `Counts.late_seconds`. Bytes a reader cannot
parse stop the counting of that connection (an entry in `errors`), never its forwarding.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import selectors
import struct
import threading
from collections.abc import Callable, Coroutine
from typing import TypeVar

from bench.wire import Counts, Wire

_T = TypeVar("_T")
_CONTROL_TIMEOUT = 10.0
_BUFFER_HIGH = 1 << 20  # pause reading a side while the other has this much queued


class _Direction:
    """One way of one connection: chunks due at a time, written in order."""

    def __init__(self, proxy: DelayProxy, link: _Link) -> None:
        self.proxy, self.link = proxy, link
        self.queue: collections.deque[tuple[float, bytes | None]] = collections.deque()
        self.queued = 0
        self.scheduled = False
        self.target: asyncio.Transport | None = None
        self.source: asyncio.Transport | None = None

    def push(self, data: bytes | None) -> None:
        """Bytes to deliver (None: the source closed; close the target after what is queued)."""
        loop = self.proxy.loop
        if self.proxy.delay <= 0 and not self.queue:
            self._deliver(data)
            return
        due = loop.time() + self.proxy.delay
        self.queue.append((due, data))
        self.queued += len(data or b"")
        if self.queued > _BUFFER_HIGH and self.source is not None:
            self.source.pause_reading()
        if not self.scheduled:
            self.scheduled = True
            loop.call_at(due, self._drain)

    def _drain(self) -> None:
        loop, counts = self.proxy.loop, self.proxy.total
        now = loop.time()
        while self.queue and self.queue[0][0] <= now:
            due, data = self.queue.popleft()
            counts.delayed_chunks += 1
            counts.late_seconds += now - due
            self.queued -= len(data or b"")
            self._deliver(data)
        if self.queue:
            loop.call_at(self.queue[0][0], self._drain)
        else:
            self.scheduled = False
        if self.queued <= _BUFFER_HIGH and self.source is not None and not self.link.closed:
            with contextlib.suppress(RuntimeError):
                self.source.resume_reading()

    def _deliver(self, data: bytes | None) -> None:
        if self.target is None or self.target.is_closing():
            return
        if data is None:
            self.link.close()
        else:
            self.target.write(data)


class _Link:
    """One client connection and its upstream connection."""

    def __init__(self, proxy: DelayProxy) -> None:
        self.proxy = proxy
        self.wire = proxy.wire(proxy.total)
        self.up = _Direction(proxy, self)  # client -> server
        self.down = _Direction(proxy, self)  # server -> client
        self.counting = True
        self.closed = False

    def close(self) -> None:
        self.closed = True
        self.proxy.links.discard(self)
        for transport in (self.up.source, self.down.source):
            if transport is not None:
                transport.close()


class _Side(asyncio.Protocol):
    """One socket of a link: what it reads goes out through `outgoing`."""

    def __init__(self, link: _Link, outgoing: _Direction, is_client: bool) -> None:
        self.link, self.outgoing, self.is_client = link, outgoing, is_client

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        incoming = self.link.down if self.is_client else self.link.up
        self.outgoing.source, incoming.target = transport, transport
        if self.is_client and self.link.up.target is None:
            transport.pause_reading()  # until the upstream connection is open

    def data_received(self, data: bytes) -> None:
        link = self.link
        if link.counting:
            try:
                (link.wire.client if self.is_client else link.wire.server)(data)
            except (ValueError, struct.error) as exc:  # bytes the reader does not understand
                link.counting = False  # forwarded all the same, no longer counted
                link.proxy.errors.append(f"uncounted connection: {type(exc).__name__}: {exc}")
        self.outgoing.push(data)

    def eof_received(self) -> bool:
        self.outgoing.push(None)
        return True  # keep the transport open until the queued bytes are delivered

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.link.closed:
            self.outgoing.push(None)


class DelayProxy:
    def __init__(
        self,
        upstream: tuple[str, int],
        *,
        delay: float,
        wire: Callable[[Counts], Wire],
    ) -> None:
        self.upstream, self.delay, self.wire = upstream, delay, wire
        self.total = Counts()
        self.port = 0
        self.errors: list[str] = []
        self.loop = asyncio.SelectorEventLoop(selectors.SelectSelector())
        self._server: asyncio.Server | None = None
        self.links: set[_Link] = set()  # the open ones
        self._thread = threading.Thread(target=self.loop.run_forever, name="delay", daemon=True)

    def __enter__(self) -> DelayProxy:
        self._thread.start()
        self._call(self._listen())
        return self

    def __exit__(self, *exc: object) -> None:
        self._call(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()

    def counts(self) -> Counts:
        """A snapshot of everything counted so far (taken on the proxy's own loop)."""
        return self._call(self._snapshot())

    def _call(self, coroutine: Coroutine[None, None, _T]) -> _T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(_CONTROL_TIMEOUT)

    async def _snapshot(self) -> Counts:
        return self.total.copy()

    async def _listen(self) -> None:
        self._server = await self.loop.create_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for link in list(self.links):
            link.close()

    def _accept(self) -> asyncio.Protocol:
        link = _Link(self)
        self.links.add(link)
        self.total.connections += 1
        self.loop.create_task(self._connect_upstream(link))
        return _Side(link, link.up, is_client=True)

    async def _connect_upstream(self, link: _Link) -> None:
        try:
            transport, _ = await self.loop.create_connection(
                lambda: _Side(link, link.down, is_client=False), *self.upstream
            )
        except OSError as exc:
            self.errors.append(f"upstream {self.upstream}: {exc}")
            link.close()
            return
        if link.closed:  # the client went away meanwhile
            transport.close()
        elif link.up.source is not None:
            link.up.source.resume_reading()
