"""The SQL the service sends, seen on the wire: a TCP proxy between the served service and
PostgreSQL that reads the frontend protocol (Parse, Bind, Query) and decodes every bound
parameter with the types the server described.

It depends on nothing inside the app, only on the PostgreSQL protocol, so it captures whatever
path the service takes (SQLAlchemy sessions, a plain asyncpg pool, any driver) as production
serves it. The proxy answers the client's SSLRequest with "no" itself, so the driver speaks in
clear to it (it only ever listens on 127.0.0.1, for the capture phase).
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)

# Statements that are the session's or the pool's own work, not the route's query.
_SESSION_PREFIXES = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SET ", "RESET", "SHOW")


@dataclass(frozen=True)
class Statement:
    at: float
    sql: str
    params: tuple[Any, ...]

    @property
    def kind(self) -> str:
        """ "query" (the route's), "session" (transactions, pings, settings), "pool" (a pool's
        reset on release) or "driver" (the driver introspecting types)."""
        text = " ".join(self.sql.split()).upper()
        if "PG_CATALOG.PG_TYPE" in text or "FROM PG_TYPE" in text:
            return "driver"
        if text in ("", ";", "SELECT 1", "SELECT 1;") or text.startswith(_SESSION_PREFIXES):
            return "session"
        if "PG_ADVISORY_UNLOCK_ALL" in text or "UNLISTEN" in text:
            return "pool"  # asyncpg's reset on release: the floor's own pool does it too
        return "query"


class DecodeError(RuntimeError):
    pass


def _numeric(data: bytes) -> Decimal:
    ndigits, weight, sign, dscale = struct.unpack_from(">hhHH", data)
    if sign == 0xC000:
        return Decimal("NaN")
    digits = struct.unpack_from(f">{ndigits}h", data, 8)
    value = sum(Decimal(d) * Decimal(10000) ** (weight - i) for i, d in enumerate(digits))
    value = value.quantize(Decimal(1).scaleb(-dscale)) if ndigits else Decimal(0)
    return -value if sign == 0x4000 else value


_SCALARS: dict[int, Any] = {
    16: lambda b: b == b"\x01",
    20: lambda b: struct.unpack(">q", b)[0],
    21: lambda b: struct.unpack(">h", b)[0],
    23: lambda b: struct.unpack(">i", b)[0],
    26: lambda b: struct.unpack(">I", b)[0],
    700: lambda b: struct.unpack(">f", b)[0],
    701: lambda b: struct.unpack(">d", b)[0],
    1082: lambda b: date(2000, 1, 1) + timedelta(days=struct.unpack(">i", b)[0]),
    1114: lambda b: (EPOCH + timedelta(microseconds=struct.unpack(">q", b)[0])).replace(
        tzinfo=None
    ),
    1184: lambda b: EPOCH + timedelta(microseconds=struct.unpack(">q", b)[0]),
    1700: _numeric,
    2950: lambda b: uuid.UUID(bytes=b),
    3802: lambda b: b[1:].decode(),  # jsonb: a version byte, then the text
}
_TEXT = {18, 19, 25, 114, 1042, 1043}
_ARRAYS = {1000, 1005, 1007, 1009, 1015, 1016, 1028, 1115, 1182, 1185, 2951}


def decode(oid: int, data: bytes | None, binary: bool) -> Any:
    """A bound parameter as the Python value asyncpg would take for it."""
    if data is None:
        return None
    if not binary or oid in _TEXT or oid >= 16384:  # text format, text types, enums
        return data.decode()
    if oid in _SCALARS:
        return _SCALARS[oid](data)
    if oid in _ARRAYS:
        ndim, _, element = struct.unpack_from(">iii", data)
        if ndim == 0:
            return []
        if ndim != 1:
            raise DecodeError(f"a {ndim}-dimensional array parameter")
        (length, _) = struct.unpack_from(">ii", data, 12)
        offset, items = 20, []
        for _ in range(length):
            (size,) = struct.unpack_from(">i", data, offset)
            offset += 4
            items.append(decode(element, None if size < 0 else data[offset : offset + size], True))
            offset += max(size, 0)
        return items
    raise DecodeError(f"no decoder for parameter type oid {oid}")


class _Connection:
    """One client connection's view: its prepared statements and the types the server gave."""

    def __init__(self, log: list[Statement], lock: threading.Lock) -> None:
        self.log, self.lock = log, lock
        self.statements: dict[str, tuple[str, list[int]]] = {}
        self.described: list[str] = []  # statement names awaiting a ParameterDescription

    def record(self, sql: str, params: tuple[Any, ...]) -> None:
        with self.lock:
            self.log.append(Statement(time.monotonic(), sql, params))

    def client_message(self, kind: bytes, body: bytes) -> None:
        if kind == b"Q":
            self.record(body.rstrip(b"\0").decode(), ())
        elif kind == b"P":
            name, rest = body.split(b"\0", 1)
            sql, rest = rest.split(b"\0", 1)
            (count,) = struct.unpack_from(">h", rest)
            oids = list(struct.unpack_from(f">{count}I", rest, 2))
            self.statements[name.decode()] = (sql.decode(), oids)
        elif kind == b"D" and body[:1] == b"S":
            self.described.append(body[1:].rstrip(b"\0").decode())
        elif kind == b"B":
            self._bind(body)

    def server_message(self, kind: bytes, body: bytes) -> None:
        if kind == b"t" and self.described:
            name = self.described.pop(0)
            (count,) = struct.unpack_from(">h", body)
            sql, _ = self.statements.get(name, ("", []))
            self.statements[name] = (sql, list(struct.unpack_from(f">{count}I", body, 2)))
        elif kind == b"E":
            self.described.clear()

    def _bind(self, body: bytes) -> None:
        _, rest = body.split(b"\0", 1)
        name, rest = rest.split(b"\0", 1)
        sql, oids = self.statements.get(name.decode(), ("?", []))
        (nformats,) = struct.unpack_from(">h", rest)
        formats = struct.unpack_from(f">{nformats}h", rest, 2)
        offset = 2 + 2 * nformats
        (nparams,) = struct.unpack_from(">h", rest, offset)
        offset += 2
        params = []
        for i in range(nparams):
            (size,) = struct.unpack_from(">i", rest, offset)
            offset += 4
            data = None if size < 0 else rest[offset : offset + size]
            offset += max(size, 0)
            binary = (formats[i] if nformats > 1 else formats[0] if nformats else 0) == 1
            oid = oids[i] if i < len(oids) else 0
            params.append(decode(oid, data, binary))
        self.record(sql, tuple(params))


async def _read_message(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readexactly(5)
    (length,) = struct.unpack(">i", head[1:])
    return head[:1], await reader.readexactly(length - 4)


def _frame(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack(">i", len(body) + 4) + body


class CaptureProxy:
    """`with CaptureProxy(host, port) as proxy:` listens on 127.0.0.1:proxy.port;
    `proxy.since(t)` is every statement sent after monotonic time t. A `host` that is a
    directory is where PostgreSQL's Unix socket is (as libpq reads it)."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.log: list[Statement] = []
        self.errors: list[str] = []
        self.lock = threading.Lock()
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="pg-capture", daemon=True)

    def __enter__(self) -> CaptureProxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the capture proxy did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _shutdown(self) -> None:
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def since(self, started: float) -> list[Statement]:
        with self.lock:
            return [s for s in self.log if s.at >= started]

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = _Connection(self.log, self.lock)
        try:
            host, port = self.upstream
            if host.startswith("/"):
                socket = f"{host}/.s.PGSQL.{port}"
                up_reader, up_writer = await asyncio.open_unix_connection(socket)
            else:
                up_reader, up_writer = await asyncio.open_connection(host, port)
        except OSError as exc:
            self.errors.append(f"upstream: {exc}")
            writer.close()
            return
        try:
            while True:  # the untyped start-up packets
                (length,) = struct.unpack(">i", await reader.readexactly(4))
                packet = await reader.readexactly(length - 4)
                (code,) = struct.unpack_from(">i", packet)
                if code in (SSL_REQUEST, GSSENC_REQUEST):
                    writer.write(b"N")
                    await writer.drain()
                    continue
                up_writer.write(struct.pack(">i", length) + packet)
                break
            await asyncio.gather(
                self._pump(reader, up_writer, conn.client_message),
                self._pump(up_reader, writer, conn.server_message),
            )
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except asyncio.CancelledError:
            # The proxy is stopping (_shutdown). Ending normally, not cancelled: on Python 3.11
            # asyncio's callback for a cancelled client task logs a CancelledError traceback.
            pass
        except Exception as exc:
            self.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            for w in (writer, up_writer):
                with contextlib.suppress(Exception):
                    w.close()

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, seen: Any
    ) -> None:
        try:
            while True:
                kind, body = await _read_message(reader)
                try:
                    seen(kind, body)
                except (DecodeError, struct.error, UnicodeDecodeError) as exc:
                    self.errors.append(f"{type(exc).__name__}: {exc}")
                writer.write(_frame(kind, body))
                await writer.drain()
        finally:
            with contextlib.suppress(Exception):
                writer.close()


# --- From two captures of one case to what the floor runs --------------------------------------

NOW = {"$now": True}
NOW_NAIVE = {"$now": "naive"}


def _encode_constant(value: Any) -> Any:
    if isinstance(value, datetime):
        return NOW if value.tzinfo else NOW_NAIVE
    if isinstance(value, uuid.UUID):
        return {"$uuid": str(value)}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    return value


def decode_constant(value: Any) -> Any:
    """The inverse of the encoding in the floor's SQL file (NOW is filled per request)."""
    if isinstance(value, dict):
        if "$now" in value:
            now = datetime.now(UTC)
            return now.replace(tzinfo=None) if value["$now"] == "naive" else now
        if "$uuid" in value:
            return uuid.UUID(value["$uuid"])
        if "$decimal" in value:
            return Decimal(value["$decimal"])
        if "$date" in value:
            return date.fromisoformat(value["$date"])
    return value


def _same(a: Any, b: Any) -> bool:
    return type(a) is not bool and type(b) is not bool and a == b


@dataclass(frozen=True)
class Sample:
    """One request's capture: the request's own values (ids, query, token claims) and the
    statements the service sent for it, with the rows each query returned when replayed."""

    values: dict[str, Any]
    statements: list[Statement]
    rows: list[dict[str, Any] | None]  # the first row of each statement (None: not replayed)


def _is_ping(statement: Statement) -> bool:
    return " ".join(statement.sql.split()).upper() in ("SELECT 1", "SELECT 1;")


def _unpinged(sample: Sample) -> Sample:
    """The sample without the pool's pre-pings: whether one is sent depends on how long the
    connection sat idle before the request (a slow replay of the previous sample's statements
    is enough), not on the request."""
    kept = [i for i, s in enumerate(sample.statements) if not _is_ping(s)]
    return Sample(
        sample.values, [sample.statements[i] for i in kept], [sample.rows[i] for i in kept]
    )


def floor_statements(a: Sample, b: Sample) -> list[dict[str, Any]]:
    """What the floor sends for a request, from two samples with different values: each
    parameter is one of the request's values (a slot), a column of an earlier statement's first
    row (a chain), or the same in both (a constant). Anything else is an error. Samples that
    differ only by a pre-ping are compared (and kept) without their pings."""
    if [s.sql for s in a.statements] != [s.sql for s in b.statements]:
        a, b = _unpinged(a), _unpinged(b)
    if [s.sql for s in a.statements] != [s.sql for s in b.statements]:
        raise RuntimeError(
            "two requests of the same case sent different statements:\n"
            + "\n".join(s.sql for s in a.statements)
            + "\n-- versus --\n"
            + "\n".join(s.sql for s in b.statements)
        )
    out = []
    for j, (sa, sb) in enumerate(zip(a.statements, b.statements, strict=True)):
        params, slots, chain = [], {}, []
        for p, (va, vb) in enumerate(zip(sa.params, sb.params, strict=True)):
            params.append(_encode_constant(va))
            names = [n for n in a.values if _same(va, a.values[n]) and _same(vb, b.values[n])]
            if names:
                for name in names:
                    slots.setdefault(name, []).append(p)
                continue
            if isinstance(va, datetime) or va == vb:
                continue  # a constant (times are "now")
            found = next(
                (
                    (i, column)
                    for i in range(j)
                    for column in (a.rows[i] or {})
                    if b.rows[i] is not None
                    and _same(a.rows[i][column], va)
                    and _same(b.rows[i].get(column), vb)
                ),
                None,
            )
            if found is None:
                raise RuntimeError(
                    f"parameter ${p + 1} of {sa.sql!r} ({va!r} / {vb!r}) is neither a value of "
                    "the request, a column read earlier, nor a constant"
                )
            chain.append([p, *found])
        out.append(
            {"sql": sa.sql, "kind": sa.kind, "params": params, "slots": slots, "chain": chain}
        )
    return out


def token_values(claims: dict[str, Any]) -> dict[str, Any]:
    """The values a signed-in request carries in its access token, as the service would bind
    them: the user id, the login family (sid) and the token id."""
    values: dict[str, Any] = {"user": int(claims["sub"])}
    if claims.get("sid"):
        values["sid"] = uuid.UUID(hex=claims["sid"])
    if claims.get("jti"):
        values["jti"] = claims["jti"]
    return values
