"""The one error shape, the AppError hierarchy, and the handlers that render every failure in it.

Every error leaves the service as
``{"error_code", "message", "error_id", "request_id", "timestamp", "details"?}``.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.json import json_bytes
from app.core.request_context import current_request_id

logger = logging.getLogger("app.errors")


class ErrorDetail(BaseModel):
    loc: list[str | int] = []
    msg: str
    type: str


class ErrorResponse(BaseModel):
    """The body of every error response."""

    error_code: str
    message: str
    error_id: str
    request_id: str | None
    timestamp: datetime
    details: list[ErrorDetail] | None = None


class AppError(Exception):
    status_code: ClassVar[int] = 400
    error_code: ClassVar[str] = "BAD_REQUEST"
    default_message: ClassVar[str] = "The request could not be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details = details
        self.headers = headers
        super().__init__(self.message)


class BadRequest(AppError):
    pass


class Unauthorized(AppError):
    status_code = 401
    error_code = "UNAUTHORIZED"
    default_message = "Authentication is required."

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(message, **kwargs)


class Forbidden(AppError):
    status_code = 403
    error_code = "FORBIDDEN"
    default_message = "You are not allowed to do this."


class NotFound(AppError):
    status_code = 404
    error_code = "NOT_FOUND"
    default_message = "The resource was not found."


class Conflict(AppError):
    status_code = 409
    error_code = "CONFLICT"
    default_message = "The request conflicts with the current state of the resource."


class PayloadTooLarge(AppError):
    status_code = 413
    error_code = "PAYLOAD_TOO_LARGE"
    default_message = "The request body is too large."


class UnprocessableEntity(AppError):
    status_code = 422
    error_code = "VALIDATION_ERROR"
    default_message = "The request is not valid."


class RateLimited(AppError):
    status_code = 429
    error_code = "RATE_LIMITED"
    default_message = "Too many requests. Try again later."

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, retry_after))})


class DatabaseUnavailable(AppError):
    status_code = 503
    error_code = "DATABASE_UNAVAILABLE"
    default_message = "The database is unavailable. Try again shortly."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, headers={"Retry-After": "5"})


_STATUS_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
    503: "SERVICE_UNAVAILABLE",
}


def error_body(
    status_code: int,
    error_code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    error_id: str | None = None,
) -> bytes:
    body: dict[str, Any] = {
        "error_code": error_code,
        "message": message,
        "error_id": error_id or str(uuid.uuid4()),
        "request_id": current_request_id(),
        "timestamp": datetime.now(UTC).isoformat(),
    }
    if details is not None:
        body["details"] = details
    return json_bytes(body)


def error_response(
    status_code: int,
    error_code: str,
    message: str,
    *,
    details: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
    error_id: str | None = None,
) -> Response:
    return Response(
        error_body(status_code, error_code, message, details, error_id),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


# pydantic writes an enum member it expects (a `Literal[JobStatus.DRAFT]`) in its Python form,
# `<JobStatus.DRAFT: 'draft'>`; a client only ever sends the value.
_ENUM_MEMBER = re.compile(r"<\w+\.\w+: ('(?:[^'\\]|\\.)*'|\d+)>")


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    details = []
    for err in exc.errors():
        details.append(
            {
                "loc": [p if isinstance(p, int) else str(p) for p in err.get("loc", ())],
                "msg": _ENUM_MEMBER.sub(r"\1", str(err.get("msg", "Invalid value"))),
                "type": str(err.get("type", "value_error")),
            }
        )
    return details


async def _app_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return error_response(
        exc.status_code, exc.error_code, exc.message, details=exc.details, headers=exc.headers
    )


# What FastAPI's body parser (the standard library's json) raises, other than a JSONDecodeError,
# for a body it cannot read; FastAPI reports each as a bare 400 "error parsing the body". They
# are bodies that are not valid JSON to this service, like any other malformed JSON: a 422.
_UNREADABLE_BODIES: tuple[tuple[type[BaseException], str], ...] = (
    (UnicodeDecodeError, "The body is not UTF-8 encoded JSON"),
    (RecursionError, "The JSON body is nested too deeply"),
    # Python refuses to convert integers of more than 4300 digits (sys.int_info).
    (ValueError, "The JSON body has a number too long to read"),
)


def _unreadable_body(exc: StarletteHTTPException) -> str | None:
    if exc.status_code != 400:
        return None
    for kind, message in _UNREADABLE_BODIES:
        if isinstance(exc.__cause__, kind):
            return message
    return None


async def _http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if unreadable := _unreadable_body(exc):
        details = [{"loc": ["body"], "msg": unreadable, "type": "json_invalid"}]
        return error_response(422, "VALIDATION_ERROR", unreadable, details=details)
    code = _STATUS_CODES.get(exc.status_code, "HTTP_ERROR")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ").capitalize()
    if exc.status_code == 404 and message == "Not Found":
        message = "No such route."
    return error_response(exc.status_code, code, message, headers=exc.headers)


async def _validation_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    details = _validation_details(exc)
    first = details[0] if details else None
    message = "The request is not valid."
    if first:
        field = ".".join(str(p) for p in first["loc"] if p not in ("body", "query", "path"))
        message = f"{field}: {first['msg']}" if field else first["msg"]
    return error_response(422, "VALIDATION_ERROR", message, details=details)


async def _database_unavailable(_: Request, exc: Exception) -> Response:
    logger.warning("database unavailable: %s: %s", type(exc).__name__, exc)
    err = DatabaseUnavailable()
    return error_response(err.status_code, err.error_code, err.message, headers=err.headers)


def install_error_handlers(app: FastAPI, database_errors: tuple[type[Exception], ...]) -> None:
    """`database_errors`: what means the database is unreachable (app.core.db), answered 503
    even when raised outside a request's session."""
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    for exc_type in database_errors:
        app.add_exception_handler(exc_type, _database_unavailable)


def error_responses(*errors: type[AppError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting the errors a route can return. Every route
    that uses it may also answer 422 (bad input), 429 (the per-client API rate limit,
    app/core/ratelimit.py) and 503 (the database is unavailable)."""
    documented: dict[int | str, dict[str, Any]] = {}
    always: tuple[type[AppError], ...] = (UnprocessableEntity, RateLimited, DatabaseUnavailable)
    for err in (*errors, *always):
        documented[err.status_code] = {"model": ErrorResponse, "description": err.default_message}
    return documented
