"""The one keyset pagination path every list endpoint uses.

A list is `{"items": [...], "next_cursor": "<opaque>" | null}`. The cursor is the base64url
JSON of the ordering's name and the sort key of the last row returned; the next page starts
strictly after that key. Every ordering ends in a unique column (the id), so rows are never
repeated or skipped, and rows inserted while a client pages appear either on a later page or
not at all (when they sort before the cursor): never as a duplicate, never causing a gap.
Sort keys must never be NULL (coalesce them in the expression).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Generic, TypeVar

import orjson
from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import ColumnElement, Integer, Row, Select, and_, bindparam, or_, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from app.core.errors import UnprocessableEntity
from app.core.ids import MAX_ID

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_CURSOR_LENGTH = 512

SortValue = int | float | Decimal | datetime | str


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


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


@dataclass(frozen=True)
class PageParams:
    limit: int
    cursor: str | None
    after: Cursor | None = None


class InvalidCursor(UnprocessableEntity):
    default_message = "The cursor is not valid for this list; start again without it."

    def __init__(self) -> None:
        super().__init__(
            details=[{"loc": ["query", "cursor"], "msg": "invalid cursor", "type": "value_error"}]
        )


PageLimit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")]
PageCursor = Annotated[
    str | None,
    # Checked by decode_cursor rather than by Query(max_length=): FastAPI collects a parameter's
    # validation error and goes on solving the route's other dependencies (opening a session
    # to find the caller), while an error raised by page_params ends the request at once.
    Query(
        description="`next_cursor` of the previous page.",
        json_schema_extra={"maxLength": MAX_CURSOR_LENGTH},
    ),
]


def page_of(limit: int, cursor: str | None) -> PageParams:
    """The page asked for; a cursor this service did not hand out is a 422 (InvalidCursor)."""
    if not cursor:
        return PageParams(limit=limit, cursor=None)
    return PageParams(limit=limit, cursor=cursor, after=decode_cursor(cursor))


async def page_params(  # async: FastAPI would run a plain def in the thread pool
    limit: PageLimit = DEFAULT_LIMIT, cursor: PageCursor = None
) -> PageParams:
    return page_of(limit, cursor)


class PageQuery(BaseModel):
    """`limit` and `cursor` as fields of a route's query model: FastAPI reads a query model
    from the URL only when it is the route's one query parameter, so a route whose filters
    are a model (GET /api/jobs) declares its page in the same model."""

    limit: PageLimit = DEFAULT_LIMIT
    cursor: PageCursor = None

    def page(self) -> PageParams:
        return page_of(self.limit, self.cursor)


# Declare it before the caller's dependencies (CurrentUser and the like): FastAPI solves them in
# order, so a forged cursor is refused before a database connection is taken.
PageDep = Annotated[PageParams, Depends(page_params)]


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


_LIMIT = "page_limit"


def _after_name(index: int) -> str:
    return f"page_after_{index}"


def _after(ordering: Ordering) -> ColumnElement[bool]:
    """Rows strictly after the cursor's key, bound as `page_after_<i>`."""
    keys = ordering.keys
    values = [bindparam(_after_name(i), type_=k.expr.type) for i, k in enumerate(keys)]
    if len({k.descending for k in keys}) == 1:
        # One direction: a row comparison, which PostgreSQL can answer from a matching index.
        row, bound = tuple_(*(k.expr for k in keys)), tuple_(*values)
        return row < bound if keys[0].descending else row > bound
    clauses = []
    for i, key in enumerate(keys):
        equal = [keys[j].expr == values[j] for j in range(i)]
        beyond = key.expr < values[i] if key.descending else key.expr > values[i]
        clauses.append(and_(*equal, beyond))
    return or_(*clauses)


def keyset_statement(stmt: Select[Any], ordering: Ordering, *, after: bool) -> Select[Any]:
    """`stmt` as one page in `ordering`, its sort key values appended to each row as extra
    columns after the caller's own. The page's limit and cursor are bind parameters
    (`keyset_params`), so one statement serves every page of its shape and compiles once."""
    stmt = stmt.add_columns(*(k.expr for k in ordering.keys))
    if after:
        stmt = stmt.where(_after(ordering))
    return stmt.order_by(
        *(k.expr.desc() if k.descending else k.expr.asc() for k in ordering.keys)
    ).limit(bindparam(_LIMIT, type_=Integer))


def keyset_params(ordering: Ordering, page: PageParams) -> dict[str, Any]:
    """The bind values of `keyset_statement` for `page` (one row more than the page, to tell
    whether another follows)."""
    params: dict[str, Any] = {_LIMIT: page.limit + 1}
    if page.after is not None:
        if page.after.ordering != ordering.name:
            raise InvalidCursor()  # another list's, or this list's in another sort
        params.update((_after_name(i), v) for i, v in enumerate(page.after.values))
    return params


R = TypeVar("R", bound=Sequence[Any])


def keyset_page(
    rows: Sequence[R], ordering: Ordering, page: PageParams
) -> tuple[Sequence[R], str | None]:
    """The page's rows of a `keyset_statement` result and the next page's cursor."""
    if len(rows) <= page.limit:
        return rows, None
    rows = rows[: page.limit]
    return rows, encode_cursor(ordering, tuple(rows[-1])[-len(ordering.keys) :])


class PagedSelect:
    """`stmt` paged through in `ordering`, its first-page and next-page statements each built
    on first use. A hot list keeps one of these per statement shape, its values bound as
    parameters: SQLAlchemy then neither rebuilds the statement nor recomputes its cache key
    per request, which on the search was as much CPU as running it."""

    def __init__(self, stmt: Select[Any], ordering: Ordering) -> None:
        self.stmt = stmt
        self.ordering = ordering
        self._pages: dict[bool, Select[Any]] = {}

    def statement(self, page: PageParams) -> Select[Any]:
        after = page.after is not None
        if after not in self._pages:
            self._pages[after] = keyset_statement(self.stmt, self.ordering, after=after)
        return self._pages[after]

    async def fetch(
        self, session: AsyncSession, page: PageParams, params: Mapping[str, Any] | None = None
    ) -> tuple[Sequence[Row[*tuple[Any, ...]]], str | None]:
        """One page's rows, `params` bound besides the page's own, and the next cursor."""
        values = {**(params or {}), **keyset_params(self.ordering, page)}
        rows = (await session.execute(self.statement(page), values)).all()
        return keyset_page(rows, self.ordering, page)


async def paginate(
    session: AsyncSession, stmt: Select[Any], ordering: Ordering, page: PageParams
) -> tuple[Sequence[Row[*tuple[Any, ...]]], str | None]:
    """Run `stmt` for one page in `ordering`; return its rows and the next page's cursor.

    The sort key values are appended to each row as extra columns, after the caller's own.
    """
    return await PagedSelect(stmt, ordering).fetch(session, page)
