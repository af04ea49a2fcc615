"""Search over live jobs: the filters of GET /api/jobs bound as parameters of a statement built
once per shape, its orders (newest, salary, relevance), and the cached page of summaries."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import (
    ColumnClause,
    ColumnElement,
    Interval,
    String,
    bindparam,
    func,
    literal_column,
)
from sqlalchemy.dialects.postgresql import REAL
from sqlalchemy.ext.asyncio import AsyncSession

from app.companies.listing_cache import LISTING_NAMESPACES, ttl_until
from app.core.cache import Cache, cache_key
from app.core.cursors import Ordering, SortKey
from app.core.db import PublicReader, session_rows
from app.core.http_cache import PublicReply
from app.core.pagination import Page, PagedSelect, PageParams
from app.jobs.models import Job
from app.jobs.schemas import JobSearch, JobSummary
from app.jobs.service import live_clause, summary_select

# The replies cached here are the bytes the declared response models serialise to.
_JOB_PAGE = TypeAdapter(Page[JobSummary])

_NO_SALARY: ColumnClause[Any] = literal_column("-1")
# Matches the ix_jobs_listed_salary index expression, so the salary sort can use it.
SALARY_KEY = func.coalesce(Job.salary_max, Job.salary_min, _NO_SALARY)

NEWEST = Ordering("jobs:newest", (SortKey(Job.published_at, datetime), SortKey(Job.id, int)))
# numeric(12, 2) amounts, or -1 for a job that states no pay.
_SALARY_BOUNDS = (Decimal(-1), Decimal("9999999999.99"))
SALARY = Ordering(
    "jobs:salary", (SortKey(SALARY_KEY, Decimal, bounds=_SALARY_BOUNDS), SortKey(Job.id, int))
)


def pays_at_least(amount: ColumnElement[Any]) -> ColumnElement[bool]:
    """The one rule of "pays at least `amount`" (the salary_min filter; matching's lowest pay
    accepted): the top of the job's range, or its min if it states no max, reaches `amount`,
    in the job's own period. A job that states no pay never does (NULL)."""
    return func.coalesce(Job.salary_max, Job.salary_min) >= amount


_EQUAL_FILTERS = ("island", "category", "employment_type", "work_mode", "company_id")


def _search_values(search: JobSearch) -> dict[str, Any]:
    """The filters `search` sets, as the bind values of its statement (`_search_select`)."""
    values: dict[str, Any] = {
        name: getattr(search, name)
        for name in (*_EQUAL_FILTERS, "salary_min", "salary_max")
        if getattr(search, name) is not None
    }
    if search.q:
        values["q"] = search.q
    if search.location:
        pattern = search.location.lower().replace("\\", "\\\\").replace("%", r"\%")
        values["location"] = pattern.replace("_", r"\_") + "%"
    if search.posted_within_days is not None:
        values["posted_within"] = timedelta(days=search.posted_within_days)
    return values


@functools.lru_cache(maxsize=256)
def _search_select(filters: frozenset[str], sort: str) -> PagedSelect:
    """Live jobs matching the `filters` set (names of `_search_values`, bound as parameters of
    those names), as summary rows, in the order `sort` lists them: built once per shape."""
    stmt = summary_select().where(live_clause())
    if "location" in filters:
        pattern = bindparam("location", type_=String)
        stmt = stmt.where(func.lower(Job.location).like(pattern, escape="\\"))
    for column in _EQUAL_FILTERS:
        if column in filters:
            stmt = stmt.where(getattr(Job, column) == bindparam(column))
    if "salary_min" in filters:
        stmt = stmt.where(pays_at_least(bindparam("salary_min")))
    if "salary_max" in filters:
        stmt = stmt.where(func.coalesce(Job.salary_min, Job.salary_max) <= bindparam("salary_max"))
    if "posted_within" in filters:
        since = func.now() - bindparam("posted_within", type_=Interval)
        stmt = stmt.where(Job.published_at >= since)
    ordering = SALARY if sort == "salary" else NEWEST
    if "q" in filters:
        query = func.websearch_to_tsquery(
            literal_column("'english'::regconfig"), bindparam("q", type_=String)
        )
        stmt = stmt.where(Job.search_vector.bool_op("@@")(query))
        if sort == "relevance":
            rank = func.ts_rank(Job.search_vector, query, type_=REAL)
            ordering = Ordering("jobs:relevance", (SortKey(rank, float), *NEWEST.keys))
    return PagedSelect(stmt, ordering)


async def find_jobs(
    session: AsyncSession, search: JobSearch, page: PageParams
) -> tuple[list[JobSummary], str | None]:
    """One page of the live jobs matching `search`, in its order: the search of GET /api/jobs,
    also what job alerts run."""
    values = _search_values(search)
    paged = _search_select(frozenset(values), search.effective_sort)
    rows, cursor = await paged.fetch(session_rows(session), page, values)
    now = datetime.now(UTC)
    return [JobSummary.of_row(row, now) for row in rows], cursor


async def search_jobs(
    reader: PublicReader, cache: Cache, search: JobSearch, page: PageParams
) -> PublicReply:
    """One page of live jobs matching `search`, as the reply of its Page[JobSummary]. The same
    for everyone who asks, so kept in the jobs cache."""
    key = cache_key(search.model_dump(mode="json", exclude_none=True), page.limit, page.cursor)
    hit = await cache.lookup(LISTING_NAMESPACES, key)
    if hit.value is not None:
        return hit.value
    jobs, cursor = await find_jobs(await reader.session(), search, page)
    body = _JOB_PAGE.dump_json(Page[JobSummary](items=jobs, next_cursor=cursor))
    ttl = ttl_until(job.expires_at for job in jobs)
    return await cache.store(LISTING_NAMESPACES, key, body, read=hit, ttl=ttl)
