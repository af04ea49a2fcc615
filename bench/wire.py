"""Round trips counted on the wire: readers of one connection's bytes, client to server, for the
PostgreSQL frontend protocol and for Redis's RESP. bench/delay.py feeds them; they do no I/O.

What counts as a round trip (each is a point after which the client waits for the server):

- PostgreSQL: every client message that ends a round trip: Sync 'S' (the end of an extended-
  protocol exchange: Parse/Bind/Describe/Execute ... Sync), simple Query 'Q', Flush 'H' (asyncpg
  prepares a statement it has not cached with Parse, Describe, Flush and waits for the
  description before it binds: one round trip more on each cache miss), FunctionCall 'F',
  CopyDone 'c' / CopyFail 'f', and the connection's set-up: the SSLRequest / GSSENCRequest, the
  start-up packet and each PasswordMessage 'p' (SASL steps). Terminate 'X' waits for nothing.
  A client that pipelines several Syncs before reading (asyncpg does not) would be counted once
  per Sync: that is the number of server turns, not of waits.
- Redis: a round trip is a burst of commands: the first command a connection sends after the
  server's last reply bytes on it (or its first command) starts one, and every further command
  sent before the server answers joins it. So `GET` is one round trip, a pipeline of N commands
  written at once (redis-py's `pipeline().execute()`) is one round trip of N commands. A
  pipeline so large that the server starts answering before the client has finished writing
  it would count more than one; the service's pipelines are a few commands.

`Counts.messages` breaks the traffic down: PostgreSQL messages by type letter (plus "startup"
and "ssl"), Redis commands by name.
"""

from __future__ import annotations

import struct
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
PG_ROUND_TRIP_ENDS = frozenset(b"SQHFcfp")  # message type bytes, see the module's docstring
_NAME_MAX = 64  # a Redis command name longer than this is not read (counted as "?")


@dataclass
class Counts:
    """What a proxy saw, over all its connections (a copy is a snapshot; `-` is a delta)."""

    connections: int = 0
    round_trips: int = 0
    messages: Counter[str] = field(default_factory=Counter)
    opaque_connections: int = 0  # connections that switched to TLS: not counted further
    delayed_chunks: int = 0
    late_seconds: float = 0.0  # delivered after their due time, in total (the loop's lateness)

    def copy(self) -> Counts:
        return Counts(
            self.connections,
            self.round_trips,
            Counter(self.messages),
            self.opaque_connections,
            self.delayed_chunks,
            self.late_seconds,
        )

    def __sub__(self, other: Counts) -> Counts:
        messages = Counter(self.messages)
        messages.subtract(other.messages)
        return Counts(
            self.connections - other.connections,
            self.round_trips - other.round_trips,
            +messages,
            self.opaque_connections - other.opaque_connections,
            self.delayed_chunks - other.delayed_chunks,
            self.late_seconds - other.late_seconds,
        )

    def as_dict(self) -> dict[str, Any]:
        mean_late = self.late_seconds / self.delayed_chunks if self.delayed_chunks else 0.0
        return {
            "connections": self.connections,
            "round_trips": self.round_trips,
            "messages": dict(sorted(self.messages.items())),
            "opaque_connections": self.opaque_connections,
            "delayed_chunks": self.delayed_chunks,
            "mean_lateness_ms": mean_late * 1000,
        }


class Wire(Protocol):
    """One connection's reader: fed every chunk each way, in order."""

    def client(self, data: bytes) -> None: ...

    def server(self, data: bytes) -> None: ...


class PostgresWire:
    def __init__(self, counts: Counts) -> None:
        self.counts = counts
        self._pending = b""  # an incomplete message header
        self._skip = 0  # bytes of the current message's body still to pass over
        self._startup = True  # untyped packets until the start-up packet
        self._asked_encryption = False  # the server's next byte answers an SSL/GSS request
        self._opaque = False

    def _count(self, name: str, ends_round_trip: bool) -> None:
        self.counts.messages[name] += 1
        if ends_round_trip:
            self.counts.round_trips += 1

    def client(self, data: bytes) -> None:
        if self._opaque:
            return
        view, i = self._pending + data, 0
        while i < len(view):
            if self._skip:
                step = min(self._skip, len(view) - i)
                i, self._skip = i + step, self._skip - step
                continue
            if self._startup:
                if len(view) - i < 8:
                    break
                length, code = struct.unpack_from(">ii", view, i)
                if code in (SSL_REQUEST, GSSENC_REQUEST):
                    self._asked_encryption = True
                    self._count("ssl", True)
                else:
                    self._startup = False
                    self._count("startup", True)
                i, self._skip = i + 8, length - 8
                continue
            if len(view) - i < 5:
                break
            kind = view[i]
            (length,) = struct.unpack_from(">i", view, i + 1)
            self._count(chr(kind), kind in PG_ROUND_TRIP_ENDS)
            i, self._skip = i + 5, length - 4
        self._pending = view[i:]

    def server(self, data: bytes) -> None:
        if self._asked_encryption and data:
            self._asked_encryption = False
            if data[:1] != b"N":  # 'S' or 'G': the rest is encrypted
                self._opaque = True
                self.counts.opaque_connections += 1


class RedisWire:
    def __init__(self, counts: Counts) -> None:
        self.counts = counts
        self._buffer = bytearray()
        self._bulks = 0  # bulk strings still to come in the current command
        self._skip = 0  # bytes of a bulk string (and its CRLF) still to pass over
        self._name_length = -1  # >= 0: the command's name (its first bulk string) comes next
        self._answered = True  # the server has replied since the last command

    def _command(self, name: bytes) -> None:
        if self._answered:
            self.counts.round_trips += 1
            self._answered = False
        self.counts.messages[name.decode(errors="replace").upper() or "?"] += 1

    def client(self, data: bytes) -> None:
        buf = self._buffer
        buf += data
        i = 0
        while i < len(buf):
            if self._skip:
                step = min(self._skip, len(buf) - i)
                i, self._skip = i + step, self._skip - step
                continue
            if self._name_length >= 0:
                if len(buf) - i < self._name_length + 2:
                    break
                self._command(bytes(buf[i : i + self._name_length]))
                i, self._name_length = i + self._name_length + 2, -1
                continue
            end = buf.find(b"\r\n", i)
            if end < 0:
                break
            line, i = bytes(buf[i:end]), end + 2
            if self._bulks:  # "$<length>" of the command's next bulk string
                self._bulks -= 1
                length = int(line[1:])
                first = self._name_length == -2
                if first and length <= _NAME_MAX:
                    self._name_length = length
                else:
                    if first:
                        self._command(b"?")
                    self._name_length, self._skip = -1, max(length, 0) + 2
            elif line[:1] == b"*":  # a command: an array of bulk strings
                self._bulks = int(line[1:])
                self._name_length = -2 if self._bulks > 0 else -1
            elif line.strip():  # an inline command: one line of words
                self._command(line.split()[0])
        del buf[:i]

    def server(self, data: bytes) -> None:
        if data:
            self._answered = True
