"""Field types every domain's request bodies share: bounded text without control characters,
and http(s) URLs that fit their column."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, HttpUrl, StringConstraints, UrlConstraints
from pydantic_core import PydanticCustomError

# Control characters break logs and PostgreSQL refuses NUL outright; tabs and newlines are
# allowed only in multi-line text.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_EXCEPT_NEWLINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _refuse(pattern: re.Pattern[str]):
    def check(value: str) -> str:
        if pattern.search(value):
            raise PydanticCustomError("control_characters", "must not contain control characters")
        return value

    return check


def line(max_length: int, min_length: int = 1) -> object:
    """A trimmed single line of text between the given lengths."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        AfterValidator(_refuse(_CONTROL)),
    ]


def text(max_length: int, min_length: int = 0) -> object:
    """Trimmed multi-line text (newlines and tabs allowed) between the given lengths."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        AfterValidator(_refuse(_CONTROL_EXCEPT_NEWLINES)),
    ]


def web_url(max_length: int) -> object:
    """An http(s) URL whose stored form fits a column of `max_length` characters."""

    def fits(url: HttpUrl) -> HttpUrl:
        # The column holds the normalised form, which can be longer than what was sent (a
        # trailing slash, percent-encoding, punycode): check the length of what is stored.
        if len(str(url)) > max_length:
            raise ValueError(f"The URL is too long: at most {max_length} characters")
        return url

    return Annotated[HttpUrl, UrlConstraints(max_length=max_length), AfterValidator(fits)]


WebUrl = web_url(500)
Skill = line(50)
LongText = text(5000)
