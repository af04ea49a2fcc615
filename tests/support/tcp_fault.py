"""A local TCP endpoint that stands in for a database or Redis and fails the ways a network does.

    with TcpFault() as silent: ...              # accepts every connection and never answers
    with TcpFault(("127.0.0.1", 5432)) as db:   # a transparent pipe to the real server
        db.refuse()     # the port refuses connections; open connections are reset
        db.blackhole()  # connections are accepted and never answered; open ones go silent
        db.forward()    # a pipe again (connections that went silent are reset)
    # on exit the port refuses connections again

It listens on 127.0.0.1:`port` (0: any free port; `.port` is the real one once started) and
counts the connections it accepted in `accepted`. It runs its own event loop in a thread, so it
keeps working whatever the test's thread or loop is doing. The upstream is (host, port) or the
path of a Unix socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, Literal

Upstream = tuple[str, int] | str
Mode = Literal["forward", "refuse", "blackhole"]
_CONTROL_TIMEOUT = 10.0


@dataclass(eq=False)
class _Connection:
    writers: list[asyncio.StreamWriter] = field(default_factory=list)
    silent: bool = False

    def reset(self) -> None:
        for writer in self.writers:
            writer.transport.abort()


class TcpFault:
    """Forwards to `upstream` until told otherwise; without one, holds every connection silent."""

    def __init__(self, upstream: Upstream | None = None, *, port: int = 0) -> None:
        self.upstream = upstream
        self.port = port
        self.mode: Mode = "blackhole" if upstream is None else "forward"
        self.accepted = 0
        self._connections: set[_Connection] = set()
        self._server: asyncio.Server | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    # -- control, from the test's thread ------------------------------------------------------

    def start(self) -> TcpFault:
        self._thread.start()
        self._call(self._listen())
        return self

    def forward(self) -> None:
        if self.upstream is None:
            raise ValueError("TcpFault has no upstream to forward to")
        self._call(self._set_mode("forward"))

    def refuse(self) -> None:
        self._call(self._set_mode("refuse"))

    def blackhole(self) -> None:
        self._call(self._set_mode("blackhole"))

    def stop(self) -> None:
        """Stop listening and reset every connection: the port refuses connections again."""
        if not self._thread.is_alive():
            return
        self._call(self._shut_down())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(_CONTROL_TIMEOUT)
        self._loop.close()

    def __enter__(self) -> TcpFault:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _call(self, coro: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(_CONTROL_TIMEOUT)

    # -- the endpoint, on its own loop ---------------------------------------------------------

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _set_mode(self, mode: Mode) -> None:
        previous, self.mode = self.mode, mode
        if mode == "refuse":
            if self._server is not None:
                self._server.close()
                self._server = None
            self._reset_all()
        elif self._server is None:
            await self._listen()
        if mode == "blackhole":
            for conn in self._connections:
                conn.silent = True
        elif previous == "blackhole":
            # A partition that heals leaves the connections it froze broken, not resumed.
            self._reset_all()

    async def _shut_down(self) -> None:
        await self._set_mode("refuse")
        handlers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)

    def _reset_all(self) -> None:
        for conn in list(self._connections):
            conn.reset()
        self._connections.clear()

    async def _open_upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if isinstance(self.upstream, str):
            return await asyncio.open_unix_connection(self.upstream)
        assert self.upstream is not None
        return await asyncio.open_connection(*self.upstream)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        conn = _Connection([writer], silent=self.mode == "blackhole")
        self._connections.add(conn)
        try:
            if conn.silent:
                await self._pump(reader, None, conn)
                return
            try:
                up_reader, up_writer = await self._open_upstream()
            except OSError:
                conn.reset()
                return
            conn.writers.append(up_writer)
            await asyncio.gather(
                self._pump(reader, up_writer, conn),
                self._pump(up_reader, writer, conn),
            )
        finally:
            self._connections.discard(conn)
            for w in conn.writers:
                w.close()

    async def _pump(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter | None,
        conn: _Connection,
    ) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await source.read(65536):
                if conn.silent or sink is None:
                    continue  # swallowed: the other side waits for an answer that never comes
                sink.write(data)
                await sink.drain()
            if sink is not None and sink.can_write_eof():
                sink.write_eof()
