"""Round trips to PostgreSQL per request, counted on the wire: a proxy between the app and the
server reads the client's protocol messages and counts each one that waits for an answer (a
simple Query, or the Sync that ends an extended-protocol exchange). A signed-in read is the
token check (no I/O), the caller's check (one SELECT) and the route's query: no pre-ping of a
connection in use a moment ago, no BEGIN and no COMMIT around SELECTs."""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from app.core.config import Settings
from app.events.hub import EVENT_HUB
from app.identity.known_callers import KNOWN_CALLERS
from tests.support.factories import Market
from tests.support.helpers import make_client

_SSL_REQUEST = 80877103
_WAITS_FOR_ANSWER = {b"Q", b"S"}  # simple query; Sync (end of Parse/Bind/Execute...)


class WireCounter:
    """A TCP pipe to PostgreSQL that counts the client's round trips (`round_trips`)."""

    def __init__(self, host: str, port: int) -> None:
        self._upstream = (host, port)
        self.round_trips = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> WireCounter:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:  # the app's connections see the server go, at once
            writer.transport.abort()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        self._writers += [writer, up_writer]
        for pump in (self._client_to_server(reader, up_writer), _pipe(up_reader, writer)):
            task = asyncio.create_task(pump)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _client_to_server(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:  # untyped start-up messages: SSLRequest, then StartupMessage
                header = await reader.readexactly(8)
                length, code = struct.unpack("!ii", header)
                writer.write(header + await reader.readexactly(length - 8))
                if code != _SSL_REQUEST:
                    break
            while True:
                header = await reader.readexactly(5)
                (length,) = struct.unpack("!i", header[1:])
                writer.write(header + await reader.readexactly(length - 4))
                if header[:1] in _WAITS_FOR_ANSWER:
                    self.round_trips += 1
        writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
    writer.close()


@pytest.fixture
async def counted_market(
    start_app: Callable[[Settings], Any],
    make_settings: Callable[..., Settings],
    database_url: str,
) -> AsyncIterator[tuple[Market, WireCounter]]:
    url = make_url(database_url)
    async with WireCounter(url.host or "127.0.0.1", url.port or 5432) as counter:
        proxied = url.set(host="127.0.0.1", port=counter.port)
        app = await start_app(make_settings(database_url=proxied.render_as_string(False)))
        async with make_client(app) as client:
            yield Market(app, client), counter


async def _round_trips(market: Market, counter: WireCounter, method: str, path: str, **kw: Any):
    """Round trips of the request once its statements are prepared on the connection (the
    first run of a statement on a connection also sends its Parse: one more)."""
    for _ in range(2):
        response = await market.client.request(method, path, **kw)
        assert response.is_success, response.text
    before = counter.round_trips
    response = await market.client.request(method, path, **kw)
    assert response.is_success, response.text
    return counter.round_trips - before


async def test_a_signed_in_read_is_its_query_once_the_caller_is_known(
    counted_market: tuple[Market, WireCounter],
) -> None:
    market, counter = counted_market
    employer = await market.user("employer")
    seeker = await market.user()
    job = await market.job(employer, (await market.company(employer))["id"])
    applied = await market.application(seeker, job["id"])
    h = seeker.headers
    # The checked callers are kept while the LISTEN connection holds (app/identity).
    await asyncio.wait_for(market.app.state.services.of(EVENT_HUB).listening.wait(), 10)

    # The profile is read under the caller check itself: one statement.
    assert await _round_trips(market, counter, "GET", "/api/users/me", headers=h) == 1
    # A caller this instance checked (the first of the two runs) is known: the query alone.
    notifications = "/api/notifications"
    assert await _round_trips(market, counter, "GET", notifications, headers=employer.headers) == 1
    # The application with its job, company, applicant and status history in one statement.
    application = f"/api/applications/{applied['id']}"
    assert await _round_trips(market, counter, "GET", application, headers=h) == 1
    # A caller not known (never checked, or forgotten): the check, then the query.
    market.app.state.services.of(KNOWN_CALLERS).forget(employer.id)
    before = counter.round_trips
    assert (await market.client.get(notifications, headers=employer.headers)).is_success
    assert counter.round_trips - before == 2
    # A write keeps its transaction: BEGIN, the UPDATE, the new unread count and the live
    # event that announces it (app/events), COMMIT; still no ping.
    read_all = "/api/notifications/read-all"
    assert await _round_trips(market, counter, "POST", read_all, headers=employer.headers) == 5


async def test_a_connection_idle_for_a_while_is_pinged_first(
    counted_market: tuple[Market, WireCounter],
) -> None:
    """After a quiet spell the pool checks the connection (SELECT 1) before a request uses it:
    one round trip more, once."""
    market, counter = counted_market
    seeker = await market.user()
    h = seeker.headers
    assert await _round_trips(market, counter, "GET", "/api/users/me", headers=h) == 1
    await asyncio.sleep(1.2)
    before = counter.round_trips
    assert (await market.client.get("/api/users/me", headers=h)).status_code == 200
    assert counter.round_trips - before == 2
