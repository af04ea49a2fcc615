"""The bench's delay proxy (bench/delay.py) and its round-trip counters (bench/wire.py), against
a real PostgreSQL connection (asyncpg) and a real Redis (redis-py), as the service uses them.

The proxy runs in a thread of the test process (no process of its own). The timing assertions
are lower bounds only: a round trip through the proxy cannot take less than twice its delay.
"""

from __future__ import annotations

import asyncio
import os
import struct
import time
from collections.abc import Iterator

import asyncpg
import pytest
from redis.asyncio import Redis
from sqlalchemy.engine import make_url

from app.core.db.url import parse_database_url
from bench.delay import DelayProxy
from bench.wire import SSL_REQUEST, Counts, PostgresWire, RedisWire
from tests.server_process import free_port

DELAY = 0.02  # seconds each way: large enough that a lower bound says something


def _host_port(url: str) -> tuple[str, int]:
    parsed = make_url(url)
    return parsed.host or "127.0.0.1", parsed.port or 5432


def _through(url: str, port: int) -> str:
    return make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


@pytest.fixture
def pg_dsn(server_database_url: str) -> str:
    return (
        parse_database_url(server_database_url)
        .url.set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )


@pytest.fixture
def pg_proxy(pg_dsn: str) -> Iterator[DelayProxy]:
    with DelayProxy(_host_port(pg_dsn), delay=0, wire=PostgresWire) as proxy:
        yield proxy


async def test_postgres_round_trips_are_counted_per_wait(pg_proxy: DelayProxy, pg_dsn: str) -> None:
    conn = await asyncpg.connect(_through(pg_dsn, pg_proxy.port), ssl=False)
    try:
        opened = pg_proxy.counts()
        assert opened.connections == 1
        assert opened.messages["startup"] == 1
        assert opened.round_trips >= 1  # the start-up (trust: no password exchange)

        before = pg_proxy.counts()
        assert await conn.fetchval("SELECT $1::int + 1", 41) == 42
        first = pg_proxy.counts() - before
        # Not cached yet: Parse, Describe, Flush (wait), then Bind, Execute, Sync (wait).
        assert first.round_trips == 2
        assert first.messages == {"P": 1, "D": 1, "H": 1, "B": 1, "E": 1, "S": 1}

        before = pg_proxy.counts()
        assert await conn.fetchval("SELECT $1::int + 1", 1) == 2
        assert (pg_proxy.counts() - before).round_trips == 1  # the statement is cached

        before = pg_proxy.counts()
        async with conn.transaction():
            for i in range(3):
                assert await conn.fetchval("SELECT $1::int + 1", i) == i + 1
        used = pg_proxy.counts() - before
        # BEGIN and COMMIT as simple queries, three cached statements as Bind/Execute/Sync.
        assert used.round_trips == 5
        assert used.messages == {"Q": 2, "B": 3, "E": 3, "S": 3}

        before = pg_proxy.counts()
        await conn.execute("SELECT 1; SELECT 2")  # one simple query, two statements
        assert (pg_proxy.counts() - before).round_trips == 1
    finally:
        await conn.close()
    assert pg_proxy.errors == []


async def test_postgres_bytes_arrive_whole_and_late(pg_dsn: str) -> None:
    with DelayProxy(_host_port(pg_dsn), delay=DELAY, wire=PostgresWire) as proxy:
        conn = await asyncpg.connect(_through(pg_dsn, proxy.port), ssl=False)
        try:
            payload = os.urandom(3 << 20)  # megabytes each way: many chunks, one order
            assert await conn.fetchval("SELECT $1::bytea", payload) == payload
            started = time.monotonic()
            assert await conn.fetchval("SELECT $1::bytea", payload) == payload  # one round trip
            elapsed = time.monotonic() - started
        finally:
            await conn.close()
        counts = proxy.counts()
    assert elapsed >= 2 * DELAY
    assert counts.delayed_chunks > 0
    assert counts.as_dict()["mean_lateness_ms"] >= 0
    assert proxy.errors == []


async def test_redis_commands_and_round_trips(redis_url: str | None) -> None:
    if redis_url is None:
        pytest.skip("needs Redis: set REDIS_URL")
    with DelayProxy(_host_port(redis_url), delay=DELAY, wire=RedisWire) as proxy:
        client = Redis.from_url(_through(redis_url, proxy.port))
        try:
            await client.ping()  # the connection and its set-up commands
            before = proxy.counts()
            started = time.monotonic()
            await client.set("bench:delay:a", b"x" * 100_000)
            elapsed = time.monotonic() - started
            assert await client.mget("bench:delay:a", "bench:delay:b") == [b"x" * 100_000, None]
            async with client.pipeline(transaction=False) as pipe:
                pipe.incr("bench:delay:n")
                pipe.incr("bench:delay:n")
                pipe.get("bench:delay:n")
                assert await pipe.execute() == [1, 2, b"2"]
            used = proxy.counts() - before
        finally:
            await client.aclose()
    assert elapsed >= 2 * DELAY
    assert used.connections == 0
    # SET, MGET, then the pipeline's three commands in one burst.
    assert used.round_trips == 3
    assert used.messages == {"SET": 1, "MGET": 1, "INCRBY": 2, "GET": 1}  # incr is INCRBY
    assert proxy.errors == []


def test_redis_reader_handles_split_and_inline_commands() -> None:
    """Commands split at every byte and inline commands are counted as whole ones."""
    counts = Counts()
    wire = RedisWire(counts)
    stream = b"*2\r\n$3\r\nGET\r\n$5\r\nk\r\nzz\r\n*1\r\n$4\r\nPING\r\nPING\r\n"
    for i in range(len(stream)):
        wire.client(stream[i : i + 1])
    assert counts.messages == {"GET": 1, "PING": 2}
    assert counts.round_trips == 1  # no reply in between: one burst
    wire.server(b"+PONG\r\n")
    wire.client(b"*1\r\n$4\r\nPING\r\n")
    assert counts.round_trips == 2


def test_postgres_reader_follows_the_encryption_answer() -> None:
    """After an SSLRequest a 'N' keeps the reader counting; an 'S' (TLS follows) stops it."""
    ssl_request = struct.pack(">ii", 8, SSL_REQUEST)
    startup = struct.pack(">ii", 9, 196608) + b"\0"
    sync = b"S" + struct.pack(">i", 4)

    clear = Counts()
    wire = PostgresWire(clear)
    wire.client(ssl_request)
    wire.server(b"N")
    for byte in startup + sync:  # split at every byte
        wire.client(bytes([byte]))
    assert clear.messages == {"ssl": 1, "startup": 1, "S": 1}
    assert clear.round_trips == 3

    encrypted = Counts()
    wire = PostgresWire(encrypted)
    wire.client(ssl_request)
    wire.server(b"S")
    wire.client(b"\x16\x03\x01 a TLS hello, not PostgreSQL messages")
    assert encrypted.messages == {"ssl": 1}
    assert encrypted.opaque_connections == 1


async def test_a_refused_upstream_closes_the_client() -> None:
    with DelayProxy(("127.0.0.1", free_port()), delay=0, wire=RedisWire) as proxy:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        try:
            assert await asyncio.wait_for(reader.read(), 10) == b""  # closed, nothing sent
        finally:
            writer.close()
        assert len(proxy.errors) == 1
        assert proxy.errors[0].startswith("upstream")


async def test_bytes_the_reader_cannot_parse_are_forwarded_uncounted(
    redis_url: str | None,
) -> None:
    if redis_url is None:
        pytest.skip("needs Redis: set REDIS_URL")
    with DelayProxy(_host_port(redis_url), delay=0, wire=RedisWire) as proxy:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        try:
            writer.write(b"*x\r\n")  # not a count: Redis answers with an error, as it would
            reply = await asyncio.wait_for(reader.readline(), 10)
        finally:
            writer.close()
        assert reply.startswith(b"-ERR Protocol error")
        assert len(proxy.errors) == 1
        assert proxy.errors[0].startswith("uncounted connection: ValueError")
