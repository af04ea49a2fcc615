"""The seed's jobs (drafts, closed, expired and live ones, in realistic shares) and the jobs
seekers saved."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from app.companies.models import Industry
from app.jobs.models import JobStatus
from app.seed import vocabulary as v
from app.seed.dataset import Row
from app.seed.draws import between, place
from app.users.work_terms import EmploymentType, JobCategory, WorkMode


@dataclass(frozen=True)
class ListedJob:
    """A job that was published: what saves and applications need of it."""

    id: int
    company_id: int
    owner_id: int
    title: str
    opened: datetime
    ends: datetime  # when it stopped taking applications (now for live jobs)


def jobs(
    rng: random.Random, now: datetime, ids: list[int], companies: list[Row]
) -> tuple[list[Row], list[ListedJob]]:
    """The jobs rows, and the jobs among them that were ever published."""
    rows: list[Row] = []
    listed: list[ListedJob] = []
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
            location, island = place(rng)
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
            published = between(rng, created, min(now, created + timedelta(days=3)))
            if roll < 0.17:
                status = JobStatus.CLOSED
                closed = between(rng, published, now)
                ends = closed
            elif roll < 0.25:
                status = JobStatus.PUBLISHED
                expires = between(rng, published, now)
                ends = expires
            else:
                status = JobStatus.PUBLISHED
                if rng.random() < 0.75:
                    expires = now + timedelta(days=rng.uniform(1, 90))
                ends = now
            listed.append(ListedJob(job_id, company_id, owner_id, title, published, ends))
        rows.append(
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
    return rows, listed


def saved_jobs(rng: random.Random, seekers: list[int], jobs: list[ListedJob]) -> list[Row]:
    """Up to four saves per seeker, each while the job was open."""
    rows: list[Row] = []
    for seeker in seekers:
        for job in rng.sample(jobs, min(len(jobs), rng.randint(0, 4))):
            rows.append((seeker, job.id, between(rng, job.opened, job.ends)))
    return rows
