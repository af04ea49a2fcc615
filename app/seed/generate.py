"""Deterministic seed data: the same seed and sizes give the same rows (times are relative to
`now`). Pure Python, no I/O: the caller supplies the row ids and writes the rows."""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from app.applications.models import ApplicationStatus
from app.applications.pipeline import STAGES
from app.companies.models import CompanySize, Industry
from app.jobs.models import JobStatus
from app.notifications import messages
from app.seed import vocabulary as v
from app.users.islands import Island
from app.users.work_terms import EmploymentType, JobCategory, WorkMode

SEED_EMAIL_DOMAIN = "seed.hiremebahamas.bs"

Row = tuple[Any, ...]


def seed_email(role: str, number: int) -> str:
    """employer1@..., seeker1@...: the accounts the seed creates, numbered from 1."""
    return f"{'seeker' if role == 'job_seeker' else role}{number}@{SEED_EMAIL_DOMAIN}"


@dataclass(frozen=True)
class SeedSize:
    companies: int
    jobs: int
    applications: int

    @property
    def employers(self) -> int:
        return max(1, (self.companies * 7 + 9) // 10)

    @property
    def seekers(self) -> int:
        return max(20, self.applications // 8)


@dataclass
class Dataset:
    users: list[Row] = field(default_factory=list)
    companies: list[Row] = field(default_factory=list)
    jobs: list[Row] = field(default_factory=list)
    saved_jobs: list[Row] = field(default_factory=list)
    applications: list[Row] = field(default_factory=list)
    status_changes: list[Row] = field(default_factory=list)
    notifications: list[Row] = field(default_factory=list)


USER_COLUMNS = (
    "id", "email", "password_hash", "full_name", "role", "headline", "location", "island",
    "skills", "years_experience", "open_to_work", "created_at", "updated_at",
    "email_verified_at",
)  # fmt: skip
COMPANY_COLUMNS = (
    "id", "owner_id", "name", "slug", "description", "website", "industry", "size", "location",
    "island", "created_at", "updated_at",
)  # fmt: skip
JOB_COLUMNS = (
    "id", "company_id", "title", "description", "location", "island", "category",
    "employment_type", "work_mode", "salary_min", "salary_max", "salary_currency",
    "salary_period", "skills", "status", "published_at", "closed_at", "expires_at",
    "created_at", "updated_at",
)  # fmt: skip
SAVED_JOB_COLUMNS = ("user_id", "job_id", "created_at")
APPLICATION_COLUMNS = (
    "id", "job_id", "applicant_id", "cover_letter", "resume_url", "status", "created_at",
    "updated_at",
)  # fmt: skip
STATUS_CHANGE_COLUMNS = ("application_id", "from_status", "to_status", "actor_id", "created_at")
NOTIFICATION_COLUMNS = (
    "user_id", "kind", "title", "body", "job_id", "application_id", "read_at", "created_at",
)  # fmt: skip


@dataclass(frozen=True)
class _Job:
    id: int
    company_id: int
    owner_id: int
    title: str
    opened: datetime
    ends: datetime  # when it stopped taking applications (now for live jobs)


def _slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:70]


def _pick(rng: random.Random, weights: dict[Any, int]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _place(rng: random.Random, island: Island | None = None) -> tuple[str, str]:
    island = island or _pick(rng, v.ISLAND_WEIGHTS)
    return rng.choice(v.SETTLEMENTS[island]), island.value


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    span = max(0.0, (end - start).total_seconds())
    return start + timedelta(seconds=rng.uniform(0, span))


class _Generator:
    def __init__(self, rng: random.Random, now: datetime, password_hash: str) -> None:
        self.rng = rng
        self.now = now
        self.password_hash = password_hash
        self.data = Dataset()
        self.names: dict[int, str] = {}

    def person(self, user_id: int, role: str, number: int) -> None:
        rng = self.rng
        name = f"{rng.choice(v.FIRST_NAMES)} {rng.choice(v.LAST_NAMES)}"
        self.names[user_id] = name
        location, island = _place(rng)
        created = self.now - timedelta(days=rng.uniform(30, 900))
        headline, skills, years, open_to_work = None, [], None, False
        if role == "job_seeker":
            category = rng.choice(list(v.ROLES))
            role_spec = rng.choice(v.ROLES[category])
            headline = f"{role_spec.title} in {location}"
            skills = role_spec.skills
            years = rng.randint(0, 25)
            open_to_work = rng.random() < 0.8
        self.data.users.append(
            (
                user_id,
                seed_email(role, number),
                self.password_hash,
                name,
                role,
                headline,
                location,
                island,
                skills,
                years,
                open_to_work,
                created,
                created,
                created,  # seeded addresses count as verified: the demo employers publish
            )
        )

    def companies(self, ids: list[int], owners: list[int], taken_slugs: set[str]) -> list[Row]:
        rng = self.rng
        made = []
        for n, company_id in enumerate(ids):
            industry: Industry = _pick(rng, v.INDUSTRY_WEIGHTS)
            name = f"{rng.choice(v.COMPANY_PREFIXES)} {rng.choice(v.COMPANY_SUFFIXES[industry])}"
            base = _slugify(name)
            slug, suffix = base, 2
            while slug in taken_slugs:
                slug, suffix = f"{base}-{suffix}", suffix + 1
            taken_slugs.add(slug)
            location, island = _place(rng)
            created = self.now - timedelta(days=rng.uniform(120, 1500))
            row = (
                company_id,
                owners[n % len(owners)],
                name,
                slug,
                f"{name} is a {industry.value.replace('_', ' ')} employer based in "
                f"{location}, {island}.",
                f"https://www.{slug}.com.bs",
                industry.value,
                rng.choice(list(CompanySize)).value,
                location,
                island,
                created,
                created,
            )
            self.data.companies.append(row)
            made.append(row)
        return made

    def jobs(self, ids: list[int], companies: list[Row]) -> list[_Job]:
        rng, now = self.rng, self.now
        listed: list[_Job] = []
        for job_id in ids:
            company = rng.choice(companies)
            company_id, owner_id, company_name = company[0], company[1], company[2]
            industry = Industry(company[6])
            category: JobCategory = rng.choice(v.INDUSTRY_CATEGORIES[industry])
            role = rng.choice(v.ROLES[category])
            title = f"{rng.choice(v.SENIORITY)}{role.title}"
            if rng.random() < 0.85:
                location, island = company[8], company[9]
            else:
                location, island = _place(rng)
            low, high = role.pay
            salary_min = salary_max = None
            if rng.random() < 0.85:
                a = rng.uniform(low, high)
                b = rng.uniform(a, high * 1.15)
                salary_min = Decimal(f"{a:.2f}") if rng.random() < 0.9 else None
                salary_max = Decimal(f"{b:.2f}")
            description = " ".join(
                [
                    rng.choice(v.DESCRIPTION_OPENINGS).format(
                        company=company_name, title=title, location=location, island=island
                    ),
                    *rng.sample(v.DESCRIPTION_BODIES, 3),
                    f"Skills: {role.skill_list}.",
                ]
            )
            created = now - timedelta(days=rng.uniform(0, 120))
            roll = rng.random()
            published = closed = expires = None
            if roll < 0.07:
                status = JobStatus.DRAFT
            else:
                published = _between(rng, created, min(now, created + timedelta(days=3)))
                if roll < 0.17:
                    status = JobStatus.CLOSED
                    closed = _between(rng, published, now)
                    ends = closed
                elif roll < 0.25:
                    status = JobStatus.PUBLISHED
                    expires = _between(rng, published, now)
                    ends = expires
                else:
                    status = JobStatus.PUBLISHED
                    if rng.random() < 0.75:
                        expires = now + timedelta(days=rng.uniform(1, 90))
                    ends = now
                listed.append(_Job(job_id, company_id, owner_id, title, published, ends))
            self.data.jobs.append(
                (
                    job_id,
                    company_id,
                    title,
                    description,
                    location,
                    island,
                    category.value,
                    rng.choices(list(EmploymentType), weights=(60, 20, 10, 6, 4))[0].value,
                    rng.choices(list(WorkMode), weights=(80, 12, 8))[0].value,
                    salary_min,
                    salary_max,
                    "BSD",
                    role.period.value,
                    role.skills,
                    status.value,
                    published,
                    closed,
                    expires,
                    created,
                    closed or published or created,
                )
            )
        return listed

    def saved_jobs(self, seekers: list[int], jobs: list[_Job]) -> None:
        for seeker in seekers:
            for job in self.rng.sample(jobs, min(len(jobs), self.rng.randint(0, 4))):
                saved = _between(self.rng, job.opened, job.ends)
                self.data.saved_jobs.append((seeker, job.id, saved))

    def applications(self, ids: list[int], seekers: list[int], jobs: list[_Job]) -> None:
        rng, now = self.rng, self.now
        pairs: set[tuple[int, int]] = set()
        capacity = len(seekers) * len(jobs)
        inbox_start, read_before = now - timedelta(days=30), now - timedelta(days=7)
        for application_id in ids[: min(len(ids), capacity)]:
            while True:
                job, seeker = rng.choice(jobs), rng.choice(seekers)
                if (job.id, seeker) not in pairs:
                    pairs.add((job.id, seeker))
                    break
            applied = _between(rng, job.opened, job.ends)
            path = self._path(rng)
            at = applied
            steps: list[tuple[ApplicationStatus | None, ApplicationStatus, int, datetime]] = [
                (None, ApplicationStatus.SUBMITTED, seeker, applied)
            ]
            for earlier, later in itertools.pairwise(path):
                at = min(now, at + timedelta(hours=rng.uniform(2, 96)))
                actor = seeker if later is ApplicationStatus.WITHDRAWN else job.owner_id
                steps.append((earlier, later, actor, at))
            self.data.applications.append(
                (
                    application_id,
                    job.id,
                    seeker,
                    f"Dear hiring manager, I would like to apply for the {job.title} position.",
                    None,
                    path[-1].value,
                    applied,
                    at,
                )
            )
            for before, after, actor, when in steps:
                self.data.status_changes.append(
                    (application_id, before and before.value, after.value, actor, when)
                )
                if when < inbox_start:
                    continue  # only the last month's notifications are kept
                if after is ApplicationStatus.SUBMITTED:
                    recipient = job.owner_id
                    message = messages.application_received(job.title, self.names[seeker])
                elif after is ApplicationStatus.WITHDRAWN:
                    recipient = job.owner_id
                    message = messages.application_withdrawn(job.title, self.names[seeker])
                else:
                    recipient = seeker
                    message = messages.application_status_changed(job.title, after.value)
                kind, title, body = message
                read = when + timedelta(hours=6) if when < read_before else None
                self.data.notifications.append(
                    (recipient, kind.value, title, body, job.id, application_id, read, when)
                )

    @staticmethod
    def _path(rng: random.Random) -> list[ApplicationStatus]:
        """The statuses an application went through, submitted first."""
        roll = rng.random()
        if roll < 0.10:
            return [*STAGES[: rng.randint(1, 4)], ApplicationStatus.REJECTED]
        if roll < 0.13:
            return [*STAGES[: rng.randint(1, 3)], ApplicationStatus.WITHDRAWN]
        reached = rng.choices(range(len(STAGES)), weights=(45, 20, 10, 7, 3, 2))[0]
        return list(STAGES[: reached + 1])


def generate(
    size: SeedSize,
    *,
    seed: int,
    now: datetime,
    password_hash: str,
    ids: dict[str, list[int]],
    taken_slugs: set[str],
) -> Dataset:
    """Rows for every table. `ids` holds pre-allocated ids for users, companies, jobs and
    applications (employers first among users)."""
    gen = _Generator(random.Random(seed), now, password_hash)  # noqa: S311 - demo data
    employers = ids["users"][: size.employers]
    seekers = ids["users"][size.employers :]
    for n, user_id in enumerate(employers, 1):
        gen.person(user_id, "employer", n)
    for n, user_id in enumerate(seekers, 1):
        gen.person(user_id, "job_seeker", n)
    companies = gen.companies(ids["companies"], employers, taken_slugs)
    listed = gen.jobs(ids["jobs"], companies)
    if listed:
        gen.saved_jobs(seekers, listed)
        gen.applications(ids["applications"], seekers, listed)
    return gen.data
