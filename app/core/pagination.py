"""The one keyset pagination path every list endpoint uses.

A list is `{"items": [...], "next_cursor": "<opaque>" | null}`. The cursor (app/core/cursors.py)
carries the ordering's name and the sort key of the last row returned; the next page starts
strictly after that key. Every ordering ends in a unique column (the id), so rows are never
repeated or skipped, and rows inserted while a client pages appear either on a later page or
not at all (when they sort before the cursor): never as a duplicate, never causing a gap.
Sort keys must never be NULL (coalesce them in the expression).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import ColumnElement, Integer, Row, Select, and_, bindparam, or_, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.cursors import (
    MAX_CURSOR_LENGTH,
    Cursor,
    InvalidCursor,
    Ordering,
    decode_cursor,
    encode_cursor,
)
from app.core.db.reads import RowSource, session_rows

DEFAULTLIMIT_PARAM = 20
MAXLIMIT_PARAM = 100

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class PageParams:
    limit: int
    cursor: str | None
    after: Cursor | None = None


PageLimit = Annotated[int, Query(ge=1, le=MAXLIMIT_PARAM, description="Page size.")]
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
    limit: PageLimit = DEFAULTLIMIT_PARAM, cursor: PageCursor = None
) -> PageParams:
    return page_of(limit, cursor)


class PageQuery(BaseModel):
    """`limit` and `cursor` as fields of a route's query model: FastAPI reads a query model
    from the URL only when it is the route's one query parameter, so a route whose filters
    are a model (GET /api/jobs) declares its page in the same model."""

    limit: PageLimit = DEFAULTLIMIT_PARAM
    cursor: PageCursor = None

    def page(self) -> PageParams:
        return page_of(self.limit, self.cursor)


# Declare it before the caller's dependencies (CurrentUser and the like): FastAPI solves them in
# order, so a forged cursor is refused before a database connection is taken.
PageDep = Annotated[PageParams, Depends(page_params)]


# The names `keyset_statement` binds the page's limit and cursor values as: a statement of
# text that must know the page (as matching's does) binds them under the same names.
LIMIT_PARAM = "page_limit"


def after_param(index: int) -> str:
    return f"page_after_{index}"


def _after(ordering: Ordering) -> ColumnElement[bool]:
    """Rows strictly after the cursor's key, bound as `page_after_<i>`."""
    keys = ordering.keys
    values = [bindparam(after_param(i), type_=k.expr.type) for i, k in enumerate(keys)]
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
    ).limit(bindparam(LIMIT_PARAM, type_=Integer))


def keyset_params(ordering: Ordering, page: PageParams) -> dict[str, Any]:
    """The bind values of `keyset_statement` for `page` (one row more than the page, to tell
    whether another follows)."""
    params: dict[str, Any] = {LIMIT_PARAM: page.limit + 1}
    if page.after is not None:
        if page.after.ordering != ordering.name:
            raise InvalidCursor()  # another list's, or this list's in another sort
        params.update((after_param(i), v) for i, v in enumerate(page.after.values))
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
        self, rows_of: RowSource, page: PageParams, params: Mapping[str, Any] | None = None
    ) -> tuple[Sequence[Any], str | None]:
        """One page's rows, `params` bound besides the page's own, and the next cursor."""
        values = {**(params or {}), **keyset_params(self.ordering, page)}
        rows = await rows_of(self.statement(page), values)
        return keyset_page(rows, self.ordering, page)


async def paginate(
    session: AsyncSession, stmt: Select[Any], ordering: Ordering, page: PageParams
) -> tuple[Sequence[Row[*tuple[Any, ...]]], str | None]:
    """Run `stmt` for one page in `ordering`; return its rows and the next page's cursor.

    The sort key values are appended to each row as extra columns, after the caller's own.
    """
    return await PagedSelect(stmt, ordering).fetch(session_rows(session), page)
