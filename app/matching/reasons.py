"""The reasons for a match in words a person reads, from either side: the seeker's ("3 of your
skills: ...", "on your island, Abaco") or the employer's ("has 3 of the job's skills: ...")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.matching.ranking import Fit
from app.matching.schemas import Match, Reason


def _words(value: str) -> str:
    """An enum value as words: `construction_trades` -> `construction trades`."""
    return value.replace("_", " ")


@dataclass(frozen=True)
class Terms:
    """What the job states that the reasons name: its island, category, contract, work mode."""

    island: str
    category: str
    employment_type: str
    work_mode: str


@dataclass(frozen=True)
class Voice:
    """The sentences of one side."""

    skills: Callable[[int, str], str]
    own_island: Callable[[str], str]
    moving_island: Callable[[str], str]
    remote: str
    category: Callable[[str], str]
    employment_type: Callable[[str], str]
    work_mode: Callable[[str], str]
    pay: str


# To a seeker about a job.
SEEKER = Voice(
    skills=lambda n, names: f"{n} of your skills: {names}",
    own_island=lambda island: f"on your island, {island}",
    moving_island=lambda island: f"on {island}, an island you would move to",
    remote="remote",
    category=lambda category: f"in {category}, a field you chose",
    employment_type=lambda kind: f"{kind}, as you asked",
    work_mode=lambda mode: f"{mode}, as you asked",
    pay="pays at least what you asked",
)
# To an employer about a candidate for their job.
EMPLOYER = Voice(
    skills=lambda n, names: f"has {n} of the job's skills: {names}",
    own_island=lambda island: f"lives on the job's island, {island}",
    moving_island=lambda island: f"would move to {island}",
    remote="the job is remote",
    category=lambda category: f"looks for work in {category}",
    employment_type=lambda kind: f"wants {kind} work",
    work_mode=lambda mode: f"wants {mode} work",
    pay="the pay meets what they ask",
)


def match(fit: Fit, terms: Terms, voice: Voice) -> Match:
    """The score and the reasons of `fit`, strongest first (the order of the ranking's tiers)."""
    reasons: list[Reason] = []
    if fit.shared_skills:
        names = ", ".join(fit.shared_skills)
        reasons.append(Reason(kind="skills", text=voice.skills(len(fit.shared_skills), names)))
    place = {3: voice.own_island(terms.island), 2: voice.moving_island(terms.island)}.get(
        fit.place, voice.remote if fit.place == 1 else None
    )
    if place is not None:
        reasons.append(Reason(kind="place", text=place))
    if fit.category_match:
        reasons.append(Reason(kind="category", text=voice.category(_words(terms.category))))
    if fit.pay_match:
        reasons.append(Reason(kind="pay", text=voice.pay))
    if fit.employment_type_match:
        text = voice.employment_type(_words(terms.employment_type))
        reasons.append(Reason(kind="employment_type", text=text))
    if fit.work_mode_match:
        reasons.append(Reason(kind="work_mode", text=voice.work_mode(_words(terms.work_mode))))
    return Match(score=fit.score, reasons=reasons)
