"""Rows read through the driver: a statement built once is compiled once, and each run is
asyncpg's `fetch` on a connection of the database's one pool, checked out for that statement
alone and handed back at once.

Why: the signed-in reads were SQLAlchemy's session and result machinery around one or two
SELECTs. Around one statement that machinery costs ~350 us of CPU against ~110 for the
checkout, the fetch and the return (`docs/performance.md`, "The signed-in reads through the
driver"). The session stays for writes and for reads that need ORM objects.

What a statement here must be (checked when it is first compiled, so a test that runs it
fails, not a request): a SELECT built once (compiled once per statement object), with named
parameters (no list expanded into the SQL: `= any_(...)` of an array instead of `in_`), and
columns whose values the driver returns as SQLAlchemy would (no JSON, no Enum classes): the
bound values are converted as SQLAlchemy converts them, the results are not.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import ARRAY, Boolean, Date, DateTime, Integer, Numeric, Select, String
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeEngine

RowSource = Callable[[Select[Any], Mapping[str, Any]], Awaitable[Sequence[Any]]]
"""Where a read built once takes its rows from: `Database.rows` (the primary, through the
driver) or `session_rows(session)`: the request's session, for a write's own transaction (which
sees what it changed) or a public page's reader (the replica)."""


def session_rows(session: AsyncSession) -> RowSource:
    async def rows(stmt: Select[Any], params: Mapping[str, Any]) -> Sequence[Any]:
        return (await session.execute(stmt, params)).all()

    return rows


# Types whose asyncpg value is the value SQLAlchemy's result layer would give.
_NATIVE = (Integer, String, Boolean, DateTime, Date)


class Record(asyncpg.Record):
    """A row, used as SQLAlchemy's rows are here: by position, by name (`row.title`,
    `row["title"]`) and as a mapping (`row._mapping`, a dict)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def _mapping(self) -> dict[str, Any]:
        # A dict, made on each access as SQLAlchemy's RowMapping is: what a model validates
        # fastest (a Record read by attribute costs a Python call per field).
        return dict(self.items())


@dataclass(frozen=True, slots=True)
class CompiledRead:
    sql: str
    names: tuple[str, ...]  # the parameters, in the order of $1, $2, ...
    fixed: Mapping[str, Any]  # values bound in the statement itself (`== 'ready'`)
    processors: Mapping[str, Callable[[Any], Any]]  # SQLAlchemy's conversions of bound values

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        values = {**self.fixed, **params}
        convert = self.processors
        return [
            convert[name](values[name]) if name in convert else values[name] for name in self.names
        ]


_COMPILED: weakref.WeakKeyDictionary[Select[Any], CompiledRead] = weakref.WeakKeyDictionary()


def compiled(stmt: Select[Any], dialect: Dialect) -> CompiledRead:
    """`stmt` compiled for asyncpg, once per statement object."""
    found = _COMPILED.get(stmt)
    if found is None:
        found = _COMPILED[stmt] = _compile(stmt, dialect)
    return found


def _native(type_: TypeEngine[Any]) -> bool:
    if isinstance(type_, ARRAY):
        return _native(type_.item_type)
    if isinstance(type_, Numeric) and not isinstance(type_, Integer):
        return bool(type_.asdecimal)
    return isinstance(type_, _NATIVE)


def _compile(stmt: Select[Any], dialect: Dialect) -> CompiledRead:
    converted = [c.key for c in stmt.selected_columns if not _native(c.type)]
    if converted:
        raise TypeError(f"columns whose values SQLAlchemy converts: {converted}")
    c = stmt.compile(dialect=dialect)
    if c.literal_execute_params or c.post_compile_params:
        raise TypeError("a read through the driver binds no list expanded into the SQL")
    names = tuple(c.positiontup or ())
    fixed = {k: v for k, v in c.params.items() if v is not None}
    # A private attribute of the compiled statement: what SQLAlchemy's execution applies.
    processors: dict[str, Callable[[Any], Any]] = {}
    for name, processor in c._bind_processors.items():
        if not callable(processor):
            raise TypeError(f"a tuple-valued parameter ({name}) is not read through the driver")
        processors[name] = processor
    return CompiledRead(str(c), names, fixed, processors)
