"""Email preferences (/api/users/me/email-preferences) and one-click unsubscribe
(/api/email/unsubscribe, RFC 8058: works without signing in)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, status

from app.core.db import SessionDep
from app.core.errors import Unauthorized, error_responses
from app.core.routing import Router
from app.email import service
from app.email.schemas import EmailPreferences
from app.identity.deps import CurrentAccount, SettingsDep

router = Router(tags=["email"])

UnsubscribeToken = Annotated[
    str, Query(min_length=5, max_length=100, pattern=r"^[A-Za-z0-9_.=-]+$")
]


@router.get(
    "/users/me/email-preferences",
    summary="Which emails I get",
    responses=error_responses(Unauthorized),
)
async def get_email_preferences(user: CurrentAccount) -> EmailPreferences:
    return service.preferences(user)


@router.put(
    "/users/me/email-preferences",
    summary="Choose which emails I get",
    responses=error_responses(Unauthorized),
)
async def put_email_preferences(
    body: EmailPreferences, user: CurrentAccount, session: SessionDep
) -> EmailPreferences:
    """Security emails (password reset, verification, a changed password or address) always
    go out and are not listed here."""
    chosen = service.set_preferences(user, body)
    await session.flush()
    return chosen


@router.post(
    "/email/unsubscribe",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="One-click unsubscribe (RFC 8058)",
    responses=error_responses(service.InvalidUnsubscribeLink),
)
async def unsubscribe(token: UnsubscribeToken, session: SessionDep, settings: SettingsDep) -> None:
    """The target of every non-security email's `List-Unsubscribe` header: mail clients POST
    `List-Unsubscribe=One-Click` here without signing in. Turns that email category off."""
    await service.unsubscribe(session, settings, token)
