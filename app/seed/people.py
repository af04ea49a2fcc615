"""The seed's accounts: employers, and job seekers with a headline, skills and experience."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from app.identity.models import Visibility
from app.seed import vocabulary as v
from app.seed.dataset import Row, seed_email
from app.seed.draws import place


def person(
    rng: random.Random, now: datetime, password_hash: str, user_id: int, role: str, number: int
) -> Row:
    """The users row of the `number`th account in `role` (its full name is column 3)."""
    name = f"{rng.choice(v.FIRST_NAMES)} {rng.choice(v.LAST_NAMES)}"
    location, island = place(rng)
    created = now - timedelta(days=rng.uniform(30, 900))
    headline, skills, years, open_to_work = None, [], None, False
    if role == "job_seeker":
        category = rng.choice(list(v.ROLES))
        role_spec = rng.choice(v.ROLES[category])
        headline = f"{role_spec.title} in {location}"
        skills = role_spec.skills
        years = rng.randint(0, 25)
        open_to_work = rng.random() < 0.8
    return (
        user_id,
        seed_email(role, number),
        password_hash,
        name,
        role,
        headline,
        location,
        island,
        skills,
        years,
        open_to_work,
        # Those open to work let employers find them (candidate search, candidates for a job);
        # decided without a draw of its own, so the rest of a seed's data stays the same.
        Visibility.EMPLOYERS if open_to_work else Visibility.HIDDEN,
        created,
        created,
        created,  # seeded addresses count as verified: the demo employers publish
    )
