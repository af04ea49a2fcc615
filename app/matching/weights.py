"""Every weight of the ranking, in one place, each with its reason. How they combine is in
app/matching/ranking.py's docstring."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Weights:
    """Every weight of the ranking, in one place, each with its reason."""

    # A shared skill counts 100 if every job (or seeker) in the pool lists it, up to nearly
    # 200 if only one does (100 + 100 * ln(N / df) / ln(N + 1)): a rare skill says more about
    # the fit than a common one, but one rare skill never outweighs two common ones.
    skill_base: int = 100
    skill_rarity: int = 100
    # Preferences (each counts only if the seeker set it). What the work is comes first; pay
    # below what they asked is the likeliest reason to turn a job down; the kind of contract
    # next; the work mode last, since place already favours remote work.
    category_preference: int = 4
    pay_preference: int = 3
    employment_type_preference: int = 2
    work_mode_preference: int = 1
    # The decimal place of each tier in `rank` (app/matching/ranking.py), and the top of the
    # last tier (relevance, 0-9).
    skill_unit: int = 10_000
    place_unit: int = 1_000
    preference_unit: int = 10
    max_relevance: int = 9


WEIGHTS = Weights()
MAX_PREFERENCE_POINTS = (
    WEIGHTS.category_preference
    + WEIGHTS.pay_preference
    + WEIGHTS.employment_type_preference
    + WEIGHTS.work_mode_preference
)
# Each tier's largest value, with all below it, stays below the next tier's unit: the tiers
# never mix (place is at most 3: the seeker's own island).
_UNDER_PREFERENCES = WEIGHTS.max_relevance
_UNDER_PLACE = MAX_PREFERENCE_POINTS * WEIGHTS.preference_unit + _UNDER_PREFERENCES
_UNDER_SKILLS = 3 * WEIGHTS.place_unit + _UNDER_PLACE
assert WEIGHTS.preference_unit > _UNDER_PREFERENCES
assert WEIGHTS.place_unit > _UNDER_PLACE
assert WEIGHTS.skill_unit > _UNDER_SKILLS

# A rank never exceeds 50 skills of 200 points in the skill tier, and the cursor says so.
RANK_BOUNDS = (0, 50 * 200 * WEIGHTS.skill_unit + WEIGHTS.skill_unit)
