"""The seed's companies, owned in turn by the employers, each with a slug no company has yet."""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta

from app.companies.models import CompanySize, Industry
from app.seed import vocabulary as v
from app.seed.dataset import Row
from app.seed.draws import pick, place


def _slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:70]


def companies(
    rng: random.Random, now: datetime, ids: list[int], owners: list[int], taken_slugs: set[str]
) -> list[Row]:
    """The companies rows; the slugs they take are added to `taken_slugs`."""
    made = []
    for n, company_id in enumerate(ids):
        industry: Industry = pick(rng, v.INDUSTRY_WEIGHTS)
        name = f"{rng.choice(v.COMPANY_PREFIXES)} {rng.choice(v.COMPANY_SUFFIXES[industry])}"
        base = _slugify(name)
        slug, suffix = base, 2
        while slug in taken_slugs:
            slug, suffix = f"{base}-{suffix}", suffix + 1
        taken_slugs.add(slug)
        location, island = place(rng)
        created = now - timedelta(days=rng.uniform(120, 1500))
        made.append(
            (
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
        )
    return made
