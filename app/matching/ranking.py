"""How well a job and a seeker fit, computed in PostgreSQL: one statement per page, from either
side (`rank_jobs` for a seeker, `rank_candidates` for a job), keyset-paged.

The fit of a pair is lexicographic, by construction: it is packed into one integer, `rank`,
whose tiers sit in separate decimal places, so a higher tier always outweighs everything
below it whatever their values:

    rank = skill points * 10,000  +  place * 1,000  +  preference points * 10  +  relevance

- skill points: the sum of the weights of the skills both share (WEIGHTS.skill_*), 0 up;
- place: 3 the seeker's own island, 2 an island they would move to, 1 remote work, 0 else;
- preference points: the seeker's preferences the job meets (WEIGHTS.*_preference), 0-10;
- relevance: the other side's words in the document (ts_rank), 0-9.

Equal ranks are ordered by freshness (the job's publication, the profile's last change), then
id. The reply's `score` (0-100) is the rank over the best rank this caller could get, so it
never rises down a list.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Integer,
    Row,
    Select,
    String,
    bindparam,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeEngine

from app.candidates.schemas import CandidateRead
from app.core.cursors import Ordering, SortKey
from app.core.pagination import (
    LIMIT_PARAM,
    PageParams,
    after_param,
    keyset_page,
    keyset_params,
    keyset_statement,
)
from app.identity.models import User
from app.jobs.models import Job
from app.jobs.service import summary_select
from app.matching.statements import candidates_for_job, jobs_for_seeker
from app.matching.weights import RANK_BOUNDS

# The types of the parameters a statement may read: the subject, the caller who owns it (for
# candidates), and the page's own (app/core/pagination.py's).
_PARAM_TYPES: dict[str, TypeEngine[Any]] = {
    "subject_id": BigInteger(),
    "owner_id": BigInteger(),
    LIMIT_PARAM: Integer(),
    after_param(0): BigInteger(),
    after_param(1): DateTime(timezone=True),
    after_param(2): BigInteger(),
}


def _scored(sql: str) -> Any:
    """The statement as a subquery named `match`, its columns typed."""
    return (
        text(sql)
        .bindparams(
            *(
                bindparam(name, type_=kind)
                for name, kind in _PARAM_TYPES.items()
                if f":{name}" in sql
            )
        )
        .columns(
            id=BigInteger,
            fresh=DateTime(timezone=True),
            skill_points=Integer,
            shared_skills=postgresql.ARRAY(String),
            place=Integer,
            category_match=Boolean,
            employment_type_match=Boolean,
            work_mode_match=Boolean,
            pay_match=Boolean,
            relevance=Integer,
            best_rank=BigInteger,
            match_rank=BigInteger,
        )
        .subquery("match")
    )


@dataclass(frozen=True)
class Fit:
    """Why a pair ranks where it does: what the reasons and the score are made of."""

    score: int  # 0-100
    shared_skills: list[str]
    place: int  # 3 own island, 2 an island the seeker would move to, 1 remote, 0 none
    category_match: bool
    employment_type_match: bool
    work_mode_match: bool
    pay_match: bool

    @classmethod
    def of_row(cls, row: Row[Any]) -> Fit:
        m = row._mapping
        score = min(100, round(100 * m["match_rank"] / m["best_rank"])) if m["best_rank"] else 0
        return cls(
            score=score,
            shared_skills=list(m["shared_skills"]),
            place=m["place"],
            category_match=m["category_match"],
            employment_type_match=m["employment_type_match"],
            work_mode_match=m["work_mode_match"],
            pay_match=m["pay_match"],
        )


# What a Fit is made of, besides the rank.
_FIT_COLUMNS = (
    "shared_skills",
    "place",
    "category_match",
    "employment_type_match",
    "work_mode_match",
    "pay_match",
    "best_rank",
)


class _Side:
    """The pages of one side's matches. The page is cut from the scored rows in the statement
    itself (keyset over the match's own columns: best rank first, then the freshest, then the
    id), and only that page's rows are joined to what the reply shows (`shown`)."""

    def __init__(
        self, name: str, sql: Callable[[bool], str], shown: Callable[[Any], Select[Any]]
    ) -> None:
        self._name = name
        self._sql = sql
        self._shown = shown
        self.ordering = self._ordering(_scored(sql(False)))
        self._pages: dict[bool, Select[Any]] = {}

    def _ordering(self, match: Any) -> Ordering:
        return Ordering(
            self._name,
            (
                SortKey(match.c.match_rank, int, bounds=RANK_BOUNDS),
                SortKey(match.c.fresh, datetime),
                SortKey(match.c.id, int),
            ),
        )

    def statement(self, after: bool) -> Select[Any]:
        """The page's statement: the first page's, or one after a cursor (the SQL of each may
        differ: it may read the page's parameters itself)."""
        if after not in self._pages:
            match = _scored(self._sql(after))
            fit = select(*(match.c[name] for name in _FIT_COLUMNS))
            top = keyset_statement(fit, self._ordering(match), after=after).subquery("top")
            keys = [top.c[name] for name in ("match_rank", "fresh", "id")]
            self._pages[after] = (
                self._shown(top)
                .add_columns(*(top.c[name] for name in _FIT_COLUMNS), *keys)
                .order_by(*(key.desc() for key in keys))
            )
        return self._pages[after]

    async def fetch(
        self, session: AsyncSession, values: dict[str, Any], page: PageParams
    ) -> tuple[Sequence[Row[Any]], str | None]:
        values = {**values, **keyset_params(self.ordering, page)}
        rows = (await session.execute(self.statement(page.after is not None), values)).all()
        return keyset_page(rows, self.ordering, page)


@functools.cache
def _jobs(leave_out: str | None = None) -> _Side:
    return _Side(
        "matches:jobs",
        lambda after: jobs_for_seeker(after=after, leave_out=leave_out),
        lambda top: summary_select().join(top, top.c.id == Job.id),
    )


# A candidate's public fields (`CandidateRead`'s but `contact`, never shown here), read as
# columns of its row, not as a `User` (the table's columns: no ORM entity to set up per page).
_users = User.__table__.c
CANDIDATE_FIELDS = tuple(name for name in CandidateRead.model_fields if name in _users)
# What the reasons name of the job (its island, category, contract, work mode), on every row.
_jobs_c = Job.__table__.c
JOB_TERMS = ("island", "category", "employment_type", "work_mode")


@functools.cache
def _candidates() -> _Side:
    return _Side(
        "matches:candidates",
        lambda after: candidates_for_job(after=after),
        lambda top: (
            select(
                *(_users[name] for name in CANDIDATE_FIELDS),
                *(_jobs_c[name].label(f"job_{name}") for name in JOB_TERMS),
            )
            .join(top, top.c.id == _users.id)
            .join(Job.__table__, _jobs_c.id == bindparam("subject_id"))
        ),
    )


async def rank_jobs(
    session: AsyncSession, seeker_id: int, page: PageParams, *, leave_out: str | None = None
) -> tuple[list[tuple[Row[Any], Fit]], str | None]:
    """One page of the live jobs ranked for the seeker `seeker_id`, best first, leaving out
    jobs they applied to or dismissed, and those paired with them in the table named
    `leave_out` (its `user_id`, `job_id`: the jobs the weekly email showed them): each as its
    `summary_select()` row (for `JobSummary.of_row`) and its Fit; and the next page's cursor."""
    rows, cursor = await _jobs(leave_out).fetch(session, {"subject_id": seeker_id}, page)
    return [(row, Fit.of_row(row)) for row in rows], cursor


async def rank_candidates(
    session: AsyncSession, job_id: int, owner_id: int, page: PageParams
) -> tuple[list[tuple[Row[Any], Fit]], str | None]:
    """One page of the findable seekers open to work, ranked for the job `job_id` if
    `owner_id` owns it (none otherwise), best first: each as a row of its `CANDIDATE_FIELDS`
    and the job's `JOB_TERMS` (prefixed `job_`) by name, and its Fit; and the next page's
    cursor."""
    values = {"subject_id": job_id, "owner_id": owner_id}
    rows, cursor = await _candidates().fetch(session, values, page)
    return [(row, Fit.of_row(row)) for row in rows], cursor
