"""The SQL of a page of matches, from either side: the one row (a seeker, or a job) scored
against every row of its pool (live jobs, or findable seekers open to work), in one statement.
The weights are app/matching/weights.py's; the rules of what is live, who is findable and what
pays enough are the jobs' and candidates' own, rendered here as SQL, never rewritten.

Every piece of SQL here is built from constants of this module, weights.py and the compiled
rules, never from input (hence S608 off); the caller's values are bound (`:subject_id`)."""

# ruff: noqa: S608

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnClause, ColumnElement, bindparam, literal_column
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import psycopg2

from app.candidates.service import findable
from app.companies.models import Company
from app.core.pagination import LIMIT_PARAM, after_param
from app.jobs.models import Job
from app.jobs.search import pays_at_least
from app.jobs.service import live_clause
from app.matching.weights import MAX_PREFERENCE_POINTS, WEIGHTS
from app.users.work_terms import PERIODS_PER_YEAR


def _sql(clause: Any) -> str:
    """A rule written once in SQLAlchemy (what is live, who is findable), as SQL text."""
    return str(clause.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


def _named(clause: Any) -> str:
    """A rule with bound parameters, as SQL text reading them by name (`:owner_id`; this
    dialect renders no casts after them, which text() would misread)."""
    return str(clause.compile(dialect=psycopg2.dialect(paramstyle="named")))


def own_job() -> ColumnElement[bool]:
    """The job `:subject_id`, if the caller `:owner_id` owns it and it is not deleted: the one
    rule of whose candidates a caller may see (a draft's too)."""
    jobs, companies = Job.__table__.c, Company.__table__.c
    return (
        (jobs.id == bindparam("subject_id"))
        & (companies.owner_id == bindparam("owner_id"))
        & jobs.deleted_at.is_(None)
    )


def _per_year(period: str) -> str:
    cases = " ".join(f"WHEN '{p.value}' THEN {n}" for p, n in PERIODS_PER_YEAR.items())
    return f"(CASE {period} {cases} END)"


# The seeker's lowest pay, in the job's period, checked by job search's own rule.
_ASKED: ColumnClause[Any] = literal_column(
    "users.min_pay_amount * "
    f"{_per_year('users.min_pay_period')} / {_per_year('jobs.salary_period')}"
)

_PAYS_ENOUGH = _sql(pays_at_least(_ASKED))


# The words of a document's top weights (a job's title and skills, a profile's headline and
# skills) as an OR query; its lexemes are already stemmed, so 'simple' takes them as they are.
def _terms(row: str) -> str:
    return (
        "(SELECT to_tsquery('simple', string_agg(quote_literal(lexeme), ' | '))"
        f" FROM unnest(tsvector_to_array(ts_filter({row}.search_vector, '{{a,b}}'))) AS lexeme)"
    )


_JOB_COLUMNS = (
    "jobs.id, jobs.published_at AS fresh, jobs.island, jobs.work_mode, jobs.category,"
    " jobs.employment_type, jobs.salary_min, jobs.salary_max, jobs.salary_period, jobs.skills"
)
_SEEKER_COLUMNS = (
    "users.id, users.updated_at AS fresh, users.island, users.relocation_islands,"
    " users.preferred_categories, users.preferred_employment_types, users.preferred_work_modes,"
    " users.min_pay_amount, users.min_pay_period, users.skills"
)
# A scored row's columns: its own, and its document (for its relevance to the subject's words).
_COLUMNS = {
    "jobs": f"{_JOB_COLUMNS}, jobs.search_vector",
    "users": f"{_SEEKER_COLUMNS}, users.search_vector",
}
_PREFERENCE_POINTS = (
    f"{WEIGHTS.category_preference} * category_match::int"
    f" + {WEIGHTS.pay_preference} * pay_match::int"
    f" + {WEIGHTS.employment_type_preference} * employment_type_match::int"
    f" + {WEIGHTS.work_mode_preference} * work_mode_match::int"
)
# The best place and preference points a job can earn from this seeker: only the preferences
# they set, the own island only if they gave one.
_SEEKER_BEST = (
    "(CASE WHEN users.island IS NOT NULL THEN 3"
    " WHEN cardinality(users.relocation_islands) > 0 THEN 2 ELSE 1 END)"
    f" * {WEIGHTS.place_unit} + {WEIGHTS.preference_unit} * ("
    f"{WEIGHTS.category_preference} * (cardinality(users.preferred_categories) > 0)::int"
    f" + {WEIGHTS.pay_preference} * (users.min_pay_amount IS NOT NULL)::int"
    f" + {WEIGHTS.employment_type_preference}"
    " * (cardinality(users.preferred_employment_types) > 0)::int"
    f" + {WEIGHTS.work_mode_preference} * (cardinality(users.preferred_work_modes) > 0)::int)"
)
# A candidate can earn any place and every preference.
_CANDIDATE_BEST = str(3 * WEIGHTS.place_unit + MAX_PREFERENCE_POINTS * WEIGHTS.preference_unit)


def _ranked(source: str, *, many: str, one: str, exclude: str) -> str:
    """The scored pairs of the subject (named `one`) and the rows of `source` (named `many`),
    each with the best rank and its own."""
    w = WEIGHTS
    return f"""
SELECT pairs.*, best.best_rank,
       skill_points * {w.skill_unit} + place * {w.place_unit}
       + ({_PREFERENCE_POINTS}) * {w.preference_unit} + relevance AS match_rank
FROM (
  SELECT {many}.id, {many}.fresh,
         coalesce(shared.points, 0)::int AS skill_points,
         coalesce(shared.names, '{{}}') AS shared_skills,
         CASE WHEN jobs.island = users.island THEN 3
              WHEN jobs.island = ANY (users.relocation_islands) THEN 2
              WHEN jobs.work_mode = 'remote' THEN 1 ELSE 0 END AS place,
         coalesce(jobs.category = ANY (users.preferred_categories), false) AS category_match,
         coalesce(jobs.employment_type = ANY (users.preferred_employment_types), false)
           AS employment_type_match,
         coalesce(jobs.work_mode = ANY (users.preferred_work_modes), false) AS work_mode_match,
         coalesce({_PAYS_ENOUGH}, false) AS pay_match,
         CASE WHEN {many}.search_vector @@ {one}.terms
              THEN least({w.max_relevance}, floor(10 * ts_rank({many}.search_vector, {one}.terms)))
              ELSE 0 END::int AS relevance
  FROM {source} AS {many} CROSS JOIN subject AS {one}
  LEFT JOIN shared ON shared.id = {many}.id
  WHERE true {exclude}
) AS pairs CROSS JOIN best"""


# The page's keyset over a scored row (app/core/pagination.py's parameters), for the check
# whether the rows sharing a skill fill the page.
_PAGE_AFTER = f"(match_rank, fresh, id) < (:{after_param(0)}, :{after_param(1)}, :{after_param(2)})"


def _statement(
    *,
    subject: str,
    pool: str,
    many: str,
    one: str,
    best: str,
    exclude: str,
    near: str | None = None,
    after: bool = False,
) -> str:
    """The scored pairs of the single row `subject` (named `one`: jobs or users) against every
    row of the table `many` that meets `pool`, as SQL whose pair expressions read `jobs.` and
    `users.`; `exclude` leaves pairs out, `best` is the best rank but the skills'.
    The skills weighed are the subject's, by how few rows of the pool list them.

    `near`, if given, finds (through an index) the rows of the pool that share a skill with
    the subject (`mine.skill`, lowered): only they are scored first. Each outranks every other
    row of the pool (its skill tier is at least `skill_base`; theirs is 0). Of the others, those
    on the subject's island (`home`, found through an index on the island) outrank the rest
    (place 3, a tier above preferences and relevance), so each set is scored only when those
    before it do not fill the page: the first page's, or the one `after` a cursor (bound as
    app/core/pagination.py's keyset parameters)."""
    w = WEIGHTS
    first = f"(SELECT {_COLUMNS[many]} FROM {many} WHERE {pool} AND {near})" if near else "pool"
    ranked = _ranked("near" if near else "pool", many=many, one=one, exclude=exclude)
    if near:
        on_home = f"{many}.island = (SELECT island FROM subject)"

        def rest(where: str) -> str:
            return _ranked(
                f"(SELECT {_COLUMNS[many]} FROM {many}"
                f" WHERE {pool} AND {many}.id NOT IN (SELECT id FROM near) AND {where})",
                many=many,
                one=one,
                exclude=exclude,
            )

        def unfilled(scored: str) -> str:
            page = f"SELECT FROM ({scored}) AS scored WHERE {_PAGE_AFTER if after else 'true'}"
            return f"(SELECT count(*) FROM ({page} LIMIT :{LIMIT_PARAM}) AS page) < :{LIMIT_PARAM}"

        keys = "match_rank, fresh, id"
        final = f""",
home AS (SELECT * FROM ({rest(on_home)}) AS home WHERE {unfilled("SELECT * FROM ranked")})
SELECT * FROM ranked
UNION ALL
SELECT * FROM home
UNION ALL
SELECT * FROM ({rest(f"NOT coalesce({on_home}, false)")}) AS far
WHERE {unfilled(f"SELECT {keys} FROM ranked UNION ALL SELECT {keys} FROM home")}"""
    else:
        final = "SELECT * FROM ranked"
    return f"""
WITH subject AS ({subject}),
pool AS (SELECT {_COLUMNS[many]} FROM {many} WHERE {pool}),
pool_size AS (SELECT count(*)::numeric AS n FROM {f"{many} WHERE {pool}" if near else "pool"}),
mine AS (
  SELECT lower(skill) AS skill, min(skill) AS name FROM subject, unnest(subject.skills) AS skill
  GROUP BY 1
),
-- The rows scored first: those sharing a skill (`near`), or else the whole pool.
near AS (SELECT * FROM {first} AS scored_first),
-- Which of those rows list which of the subject's skills (a hash join on the lowered names;
-- a list holds each skill once, whatever its case; a row outside `near` lists none).
hits AS (
  SELECT near.id, mine.skill
  FROM near CROSS JOIN LATERAL unnest(near.skills) AS listed(skill)
  JOIN mine ON mine.skill = lower(listed.skill)
),
weights AS (
  SELECT mine.skill, mine.name,
         {w.skill_base} + floor({w.skill_rarity} * ln(pool_size.n / count(*))
                                / ln(pool_size.n + 1))::int AS weight
  FROM mine JOIN hits USING (skill) CROSS JOIN pool_size
  GROUP BY mine.skill, mine.name, pool_size.n
),
shared AS (
  SELECT hits.id, sum(weights.weight) AS points,
         array_agg(weights.name::text ORDER BY weights.weight DESC, weights.name) AS names
  FROM hits JOIN weights USING (skill)
  GROUP BY hits.id
),
best AS (
  SELECT (SELECT coalesce(sum(weight), 0) FROM weights) * {w.skill_unit} + {best}
         + {w.max_relevance} AS best_rank
  FROM subject AS {one}
),
ranked AS ({ranked})
{final}
"""


def jobs_for_seeker(*, after: bool, leave_out: str | None) -> str:
    """The live jobs scored for the seeker `:subject_id`, for the first page or one `after` a
    cursor, leaving out those paired with them in the table `leave_out` (its `user_id`,
    `job_id`), if given."""
    # Jobs the seeker applied to or dismissed stay out.
    exclude = (
        "AND NOT EXISTS (SELECT FROM applications"
        " WHERE applications.job_id = jobs.id AND applications.applicant_id = :subject_id)"
        " AND NOT EXISTS (SELECT FROM job_dismissals"
        " WHERE job_dismissals.job_id = jobs.id AND job_dismissals.user_id = :subject_id)"
    )
    if leave_out is not None:
        exclude += (
            f" AND NOT EXISTS (SELECT FROM {leave_out}"
            f" WHERE {leave_out}.job_id = jobs.id AND {leave_out}.user_id = :subject_id)"
        )
    return _statement(
        subject=f"SELECT {_SEEKER_COLUMNS}, {_terms('users')} AS terms"
        " FROM users WHERE users.id = :subject_id",
        pool=_sql(live_clause()),
        many="jobs",
        one="users",
        best=_SEEKER_BEST,
        exclude=exclude,
        # The live jobs listing one of the seeker's skills, through ix_jobs_listed_skill_keys.
        near="skill_keys(jobs.skills) && (SELECT array_agg(skill) FROM mine)",
        after=after,
    )


def candidates_for_job(*, after: bool) -> str:
    """The seekers an employer may be matched with, scored for the job `:subject_id` if the
    caller `:owner_id` owns it (else no rows: the ownership check is this statement's), for
    the first page or one `after` a cursor."""
    return _statement(
        subject=f"SELECT {_JOB_COLUMNS}, {_terms('jobs')} AS terms"
        f" FROM jobs JOIN companies ON companies.id = jobs.company_id WHERE {_named(own_job())}",
        pool=f"{_sql(findable())} AND users.open_to_work",
        many="users",
        one="jobs",
        best=_CANDIDATE_BEST,
        exclude="",
        # The seekers listing one of the job's skills, through ix_users_matchable_skill_keys.
        near="skill_keys(users.skills) && (SELECT array_agg(skill) FROM mine)",
        after=after,
    )
