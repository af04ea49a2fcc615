"""The auth domain's errors, each documenting itself in OpenAPI (see app.core.errors)."""

from __future__ import annotations

from app.core.errors import BadRequest, Conflict, Forbidden, Unauthorized


class InvalidCredentials(Unauthorized):
    error_code = "INVALID_CREDENTIALS"
    default_message = "The email or password is incorrect."


class InvalidRefreshToken(Unauthorized):
    error_code = "INVALID_REFRESH_TOKEN"
    default_message = "The refresh token is invalid, expired or already used. Sign in again."


class WrongPassword(Forbidden):
    error_code = "WRONG_PASSWORD"
    default_message = "The password is incorrect."


class AccountSuspended(Forbidden):
    error_code = "ACCOUNT_SUSPENDED"
    default_message = "This account is suspended. Contact support if you think this is wrong."


class EmailTaken(Conflict):
    error_code = "EMAIL_TAKEN"
    default_message = "An account with this email already exists."


class InvalidEmailToken(BadRequest):
    error_code = "INVALID_TOKEN"
    default_message = "This link is invalid, expired or already used. Ask for a new one."
