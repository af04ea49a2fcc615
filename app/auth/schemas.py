"""Bodies of the auth API. Unknown fields are refused (422), so a `role: admin`, `is_admin` or
`id` smuggled into a request is never obeyed."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic.json_schema import JsonDict
from pydantic_core import PydanticCustomError

from app.users.schemas import FullName, UserPrivate, normalize_email

MAX_PASSWORD_BYTES = 72  # bcrypt ignores (and bcrypt 5 refuses) anything past 72 bytes
MIN_PASSWORD_LENGTH = 8


def _check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PydanticCustomError(
            "password_too_short",
            "The password must be at least {min} characters long.",
            {"min": MIN_PASSWORD_LENGTH},
        )
    _check_password_size(password)
    return password


def _check_password_size(password: str) -> str:
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise PydanticCustomError(
            "password_too_long",
            "The password is too long: at most {max} bytes, which is {max} plain letters or "
            "digits and fewer with accented letters or emoji.",
            {"max": MAX_PASSWORD_BYTES},
        )
    if "\x00" in password:
        raise PydanticCustomError("password_nul", "The password must not contain NUL characters.")
    return password


# Sizes are bounded before any validator runs, so a megabyte "password" costs nothing.
_Bounded = StringConstraints(max_length=1024)
# A password being set: the full policy.
NewPassword = Annotated[str, _Bounded, AfterValidator(_check_password)]
# A password being checked: any password that could have been set.
GivenPassword = Annotated[
    str, StringConstraints(min_length=1, max_length=1024), AfterValidator(_check_password_size)
]
Email = Annotated[EmailStr, AfterValidator(normalize_email)]
RefreshTokenValue = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{20,128}$")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _example(example: JsonDict) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": [example]})


class RegisterRequest(_Body):
    model_config = _example(
        {
            "email": "ann@example.com",
            "password": "correct horse battery",
            "full_name": "Ann Rolle",
            "role": "job_seeker",
        }
    )

    email: Email
    password: NewPassword
    full_name: FullName
    role: Literal["job_seeker", "employer"] = "job_seeker"

    @model_validator(mode="after")
    def _password_is_not_the_email(self) -> RegisterRequest:
        if normalize_email(self.password) == self.email:
            raise PydanticCustomError(
                "password_is_email", "The password must not be your email address."
            )
        return self


class LoginRequest(_Body):
    model_config = _example({"email": "ann@example.com", "password": "correct horse battery"})

    email: Email
    password: GivenPassword


class RefreshRequest(_Body):
    model_config = _example({"refresh_token": "Hx3kq9VwM2r7YbZpL0aQe5tN8uJcF1sD4gW6yK_-oIA"})

    refresh_token: RefreshTokenValue | None = Field(
        None, description="Optional when the refresh cookie is sent."
    )


class ChangePasswordRequest(_Body):
    model_config = _example(
        {"current_password": "correct horse battery", "new_password": "staple battery horse"}
    )

    current_password: GivenPassword
    new_password: NewPassword


EmailTokenValue = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{20,128}$")]


class PasswordResetRequest(_Body):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"email": "seeker@example.com"}]}
    )

    email: Email


class PasswordResetConfirm(_Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"token": "the-token-from-the-emailed-link", "new_password": "a new passphrase"}
            ]
        },
    )

    token: EmailTokenValue
    new_password: NewPassword


class EmailTokenConfirm(_Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"token": "the-token-from-the-emailed-link"}]},
    )

    token: EmailTokenValue


class ChangeEmailRequest(_Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"password": "my current passphrase", "new_email": "new@example.com"}]
        },
    )

    password: GivenPassword
    new_email: Email


class Accepted(BaseModel):
    status: Literal["accepted"] = "accepted"
    message: str


class PasswordConfirmation(_Body):
    model_config = _example({"password": "correct horse battery"})

    password: GivenPassword


class TokenPair(BaseModel):
    user: UserPrivate
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type
    expires_in: int = Field(description="Seconds until the access token expires.")
