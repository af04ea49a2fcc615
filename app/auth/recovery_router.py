"""/api/auth, by email: password reset, address verification and email change (the links
app/auth/account_links.py issues)."""

from __future__ import annotations

from fastapi import status

from app.auth import errors, recovery, verification
from app.auth.deps import AuthContextDep
from app.auth.schemas import (
    Accepted,
    ChangeEmailRequest,
    EmailTokenConfirm,
    PasswordResetConfirm,
    PasswordResetRequest,
)
from app.core.db import SessionDep
from app.core.errors import RateLimited, Unauthorized, error_responses
from app.core.routing import Router
from app.identity.deps import CurrentAccount, SettingsDep

router = Router(tags=["auth"])


_RESET_ACCEPTED = (
    "If an account uses this address, an email with a link to choose a new password is on "
    "its way. The link works once, for 30 minutes."
)


@router.post(
    "/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Ask for a password reset email",
    responses=error_responses(RateLimited),
)
async def password_reset(
    body: PasswordResetRequest, session: SessionDep, ctx: AuthContextDep
) -> Accepted:
    """Always 202 with the same body, whether or not an account uses the address: the lookup
    and the email happen in the worker, so neither the answer nor its timing tells."""
    await recovery.request_password_reset(session, ctx, body.email)
    return Accepted(message=_RESET_ACCEPTED)


@router.post(
    "/password-reset/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Choose a new password with an emailed reset token",
    responses=error_responses(errors.InvalidEmailToken, RateLimited),
)
async def password_reset_confirm(
    body: PasswordResetConfirm, session: SessionDep, ctx: AuthContextDep
) -> None:
    """Spend the token (once, within 30 minutes) for a new password. Every session of the
    account ends, its failed sign-in count is cleared, and it is told by email."""
    await recovery.confirm_password_reset(session, ctx, body.token, body.new_password)


@router.post(
    "/verify-email/request",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send the email verification link again",
    responses=error_responses(Unauthorized, RateLimited),
)
async def verify_email_request(
    user: CurrentAccount, session: SessionDep, ctx: AuthContextDep
) -> Accepted:
    """Mail a new verification link to the account's address (nothing when it is verified)."""
    await verification.request_verification(session, ctx, user)
    return Accepted(message="If your address is not verified yet, a new link is on its way.")


@router.post(
    "/verify-email/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Verify the email address with an emailed token",
    responses=error_responses(errors.InvalidEmailToken, errors.EmailTaken),
)
async def verify_email_confirm(
    body: EmailTokenConfirm, session: SessionDep, settings: SettingsDep
) -> None:
    """Works without signing in: the token itself proves the mailbox. A link sent to a new
    address (POST /change-email) makes it the account's address."""
    await verification.confirm_verification(session, settings, body.token)


@router.post(
    "/change-email",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Change the account's email address",
    responses=error_responses(Unauthorized, errors.WrongPassword, errors.EmailTaken, RateLimited),
)
async def change_email(
    body: ChangeEmailRequest, user: CurrentAccount, session: SessionDep, ctx: AuthContextDep
) -> Accepted:
    """Takes the current password. The new address gets a verification link and becomes the
    account's once it is followed; the current address is told at once."""
    await verification.request_email_change(session, ctx, user, body.password, body.new_email)
    return Accepted(message="Follow the link we emailed to the new address to confirm it.")
