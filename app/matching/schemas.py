"""What the matching API replies: the job summary or the public candidate of the lists they
come from, each with `match: {score, reasons}`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.candidates.schemas import CandidateRead
from app.jobs.schemas import JobSummary

ReasonKind = Literal["skills", "place", "category", "employment_type", "work_mode", "pay"]


class Reason(BaseModel):
    """One reason for a match, in words a person reads."""

    kind: ReasonKind
    text: str


class Match(BaseModel):
    """How well the pair fits: `score` 0-100 (the best this caller could get is 100; it never
    rises down a list) and the reasons, the strongest first."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "score": 96,
                    "reasons": [
                        {
                            "kind": "skills",
                            "text": "3 of your skills: welding, pipefitting, blueprints",
                        },
                        {"kind": "place", "text": "on your island, Abaco"},
                        {"kind": "pay", "text": "pays at least what you asked"},
                    ],
                }
            ]
        }
    )

    score: Annotated[int, Field(ge=0, le=100)]
    reasons: list[Reason]


class JobMatch(JobSummary):
    """A job of GET /api/users/me/job-matches: the job list's summary, and the match."""

    match: Match


class CandidateMatch(CandidateRead):
    """A seeker of GET /api/jobs/{job_id}/candidate-matches: candidate search's public
    candidate (contact details never: `contact` is always null here), and the match."""

    match: Match
