"""The words of each notification, in one place (the service and the seed data both use them)."""

from __future__ import annotations

from app.notifications.models import NotificationKind

Message = tuple[NotificationKind, str, str]

_STATUS_PHRASES = {
    "reviewing": "is being reviewed",
    "shortlisted": "has been shortlisted",
    "interviewing": "has moved to the interview stage",
    "offered": "has received an offer",
    "hired": "was successful: you are hired",
    "rejected": "was not successful this time",
}


def application_received(job_title: str, applicant_name: str) -> Message:
    return (
        NotificationKind.APPLICATION_RECEIVED,
        f"New application for {job_title}",
        f"{applicant_name} applied for {job_title}.",
    )


def application_status_changed(job_title: str, status: str) -> Message:
    phrase = _STATUS_PHRASES.get(status, f"is now {status}")
    return (
        NotificationKind.APPLICATION_STATUS_CHANGED,
        f"Update on your application for {job_title}",
        f"Your application for {job_title} {phrase}.",
    )


def application_withdrawn(job_title: str, applicant_name: str) -> Message:
    return (
        NotificationKind.APPLICATION_WITHDRAWN,
        f"Application withdrawn for {job_title}",
        f"{applicant_name} withdrew their application for {job_title}.",
    )


def candidate_invited(job_title: str, company_name: str) -> Message:
    return (
        NotificationKind.CANDIDATE_INVITED,
        f"{company_name} invites you to apply",
        f"{company_name} invites you to apply for {job_title}.",
    )


def new_message(job_title: str, sender_name: str) -> Message:
    return (
        NotificationKind.NEW_MESSAGE,
        f"New message about {job_title}",
        f"{sender_name} sent you a message about {job_title}.",
    )
