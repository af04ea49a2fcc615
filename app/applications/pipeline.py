"""The application pipeline as data: which status may follow which, and who may move it."""

from __future__ import annotations

from app.applications.models import ApplicationStatus as S

# The hiring stages in order; the employer moves an application one stage at a time.
STAGES: tuple[S, ...] = (
    S.SUBMITTED,
    S.REVIEWING,
    S.SHORTLISTED,
    S.INTERVIEWING,
    S.OFFERED,
    S.HIRED,
)
OPEN: frozenset[S] = frozenset(STAGES[:-1])

# Moves the job's owner may make: the next stage, or rejection from any open state.
EMPLOYER_TRANSITIONS: dict[S, frozenset[S]] = {
    stage: frozenset({STAGES[i + 1], S.REJECTED}) for i, stage in enumerate(STAGES[:-1])
}

# The applicant may withdraw while the application is still open.
WITHDRAWABLE: frozenset[S] = OPEN


def employer_may_move(current: S, target: S) -> bool:
    return target in EMPLOYER_TRANSITIONS.get(current, frozenset())


# The thread between applicant and employer stays readable, but nobody writes to it any more.
MESSAGING_CLOSED: frozenset[S] = frozenset({S.WITHDRAWN, S.REJECTED})
