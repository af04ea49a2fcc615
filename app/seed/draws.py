"""The random draws every part of the seed makes, all from the one generator `generate` seeds,
so the same seed gives the same rows."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from app.seed import vocabulary as v
from app.users.islands import Island


def pick(rng: random.Random, weights: dict[Any, int]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def place(rng: random.Random, island: Island | None = None) -> tuple[str, str]:
    """A settlement and its island (drawn by population when not given)."""
    island = island or pick(rng, v.ISLAND_WEIGHTS)
    return rng.choice(v.SETTLEMENTS[island]), island.value


def between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    span = max(0.0, (end - start).total_seconds())
    return start + timedelta(seconds=rng.uniform(0, span))
