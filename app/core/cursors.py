"""Cursors of keyset pages: the sort keys of a named ordering, and the opaque cursor that
carries the last row's key (base64url JSON of the ordering's name and the key's values).

A cursor is decoded completely, against the types and ranges of its ordering's keys, before a
route takes a database connection: anything a list did not hand out is InvalidCursor (422).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
from sqlalchemy import ColumnElement
from sqlalchemy.orm import QueryableAttribute

from app.core.errors import UnprocessableEntity
from app.core.ids import MAX_ID

MAX_CURSOR_LENGTH = 512

SortValue = int | float | Decimal | datetime | str

# What the database accepts as a bound sort key: bigint ids, REAL ranks (PostgreSQL's ts_rank),
# numeric amounts well past any salary, text without NUL or control characters.
_MAX_REAL = 3.4e38
_MAX_DECIMAL_DIGITS = 30
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# The values a key of each type can really hold, unless its SortKey says otherwise: an integer
# key is a row id (1 and up), a float key a rank (ts_rank is never negative).
_DEFAULT_RANGES: dict[type[SortValue], tuple[SortValue, SortValue] | None] = {
    int: (1, MAX_ID),
    float: (0.0, _MAX_REAL),
}


KeySpec = tuple[type[SortValue], tuple[SortValue, SortValue] | None]


@dataclass(frozen=True)
class SortKey:
    expr: ColumnElement[Any] | QueryableAttribute[Any]
    type: type[SortValue]
    descending: bool = True
    # The lowest and highest value a row can have (a cursor outside is forged); None: the
    # type's default range, if any.
    bounds: tuple[SortValue, SortValue] | None = None

    def spec(self) -> KeySpec:
        return self.type, self.bounds or _DEFAULT_RANGES.get(self.type)


# The sort key types and ranges of every ordering by name, so a cursor is decoded completely
# (and a forged one refused) by the page dependency, before the route opens a session.
_KEY_SPECS: dict[str, tuple[KeySpec, ...]] = {}


@dataclass(frozen=True)
class Ordering:
    """A named total order: its last key must be unique (the primary key). Orderings of one
    name must have the same key types (the search builds its relevance ordering per query)."""

    name: str
    keys: tuple[SortKey, ...]

    def __post_init__(self) -> None:
        specs = tuple(key.spec() for key in self.keys)
        if _KEY_SPECS.setdefault(self.name, specs) != specs:
            raise ValueError(f"ordering {self.name!r} is declared with other sort keys")


@dataclass(frozen=True)
class Cursor:
    """A decoded cursor: the ordering it was made for and the last row's sort key."""

    ordering: str
    values: tuple[SortValue, ...]


class InvalidCursor(UnprocessableEntity):
    default_message = "The cursor is not valid for this list; start again without it."

    def __init__(self) -> None:
        super().__init__(
            details=[{"loc": ["query", "cursor"], "msg": "invalid cursor", "type": "value_error"}]
        )


def _encode_value(value: SortValue) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _decode_value(raw: Any, spec: KeySpec) -> SortValue:
    value = _decode_typed(raw, spec[0])
    bounds = spec[1]
    # A key's bounds are of its own type (ids and ranks, amounts, times), which mypy cannot pair.
    if bounds is not None and not bounds[0] <= value <= bounds[1]:  # type: ignore[operator]
        raise ValueError("out of range")
    return value


def _decode_typed(raw: Any, kind: type[SortValue]) -> SortValue:
    if kind is datetime and isinstance(raw, str):
        parsed = datetime.fromisoformat(raw)
        if parsed.tzinfo is None:
            raise ValueError("naive datetime")
        return parsed.astimezone(UTC)  # OverflowError at the ends of datetime's range
    if kind is Decimal and isinstance(raw, str):
        value = Decimal(raw)
        if not value.is_finite() or abs(value.adjusted()) > _MAX_DECIMAL_DIGITS:
            raise ValueError("out of range")
        return value
    if kind is float and isinstance(raw, int | float) and not isinstance(raw, bool):
        return float(raw)
    if kind is int and isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if kind is str and isinstance(raw, str) and not _CONTROL.search(raw):
        return raw
    raise ValueError(f"expected {kind.__name__}")


def encode_cursor(ordering: Ordering, values: Sequence[SortValue]) -> str:
    payload = orjson.dumps([ordering.name, [_encode_value(v) for v in values]])
    return base64.urlsafe_b64encode(payload).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> Cursor:
    """The cursor a list handed out, or InvalidCursor (422) for anything else."""
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        name, values = orjson.loads(raw)
        specs = _KEY_SPECS[name]
        if not isinstance(values, list) or len(values) != len(specs):
            raise ValueError("not this ordering's key")
        decoded = tuple(_decode_value(v, s) for v, s in zip(values, specs, strict=True))
    except (
        ValueError,
        TypeError,
        KeyError,
        OverflowError,
        binascii.Error,
        InvalidOperation,
        orjson.JSONDecodeError,
    ):
        raise InvalidCursor() from None
    return Cursor(ordering=name, values=decoded)
