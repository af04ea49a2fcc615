"""Field types every domain's request bodies share: bounded text without control characters,
names without invisible characters, skill lists, ISO 4217 currencies, and http(s) URLs that fit
their column."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Annotated

from pydantic import AfterValidator, Field, HttpUrl, StringConstraints, UrlConstraints
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


# PostgreSQL's websearch_to_tsquery parses with a stack of 32 pending operators: a query holds
# at most an OR and an AND pending, and every `-` (NOT) waits there too until a word follows.
# Between two NOTs, PostgreSQL skips spaces and the characters ! & | ( ) <, so past 30 NOTs
# in a row the search fails ("tsquery stack too small"). Here anything but a letter, digit or
# underscore counts as between: that refuses a few queries PostgreSQL would take, none it
# would not.
MAX_NEGATIONS_IN_A_ROW = 30
_NEGATIONS = re.compile(r"-(?:[^\w-]*-)*")


def _refuse_negation_runs(value: str) -> str:
    if any(run.group().count("-") > MAX_NEGATIONS_IN_A_ROW for run in _NEGATIONS.finditer(value)):
        raise PydanticCustomError(
            "too_many_negations",
            "must not have more than {limit} '-' in a row",
            {"limit": MAX_NEGATIONS_IN_A_ROW},
        )
    return value


def search_text(max_length: int) -> object:
    """A full-text search as a person types it (PostgreSQL's websearch syntax: words, "quoted
    phrases", or, -word), trimmed, possibly empty, that PostgreSQL's parser can take."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, max_length=max_length),
        AfterValidator(_refuse(_CONTROL)),
        AfterValidator(_refuse_negation_runs),
    ]


# What a name shown to other people must not contain: control and format characters (among
# them the bidirectional overrides that make "Resort Ltd\u202edtL" read backwards, zero-width
# spaces and joiners), private-use and surrogate code points, and line or paragraph separators.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Zl", "Zp"})


def _refuse_invisible(value: str) -> str:
    if any(unicodedata.category(char) in _INVISIBLE_CATEGORIES for char in value):
        raise PydanticCustomError(
            "invisible_characters",
            "must not contain invisible, control or text-direction characters",
        )
    return value


def name(max_length: int, min_length: int = 1) -> object:
    """A trimmed single line that people see as someone's or something's name: a display name,
    a job title, a company name. Only visible characters and plain spaces."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        AfterValidator(_refuse_invisible),
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


def _distinct(skills: list[str]) -> list[str]:
    """The skills in their first spelling, each once however it is capitalised."""
    seen: set[str] = set()
    distinct = []
    for skill in skills:
        if skill.casefold() not in seen:
            seen.add(skill.casefold())
            distinct.append(skill)
    return distinct


def skills(max_items: int) -> object:
    """A list of skills, duplicates (case-insensitively) dropped."""
    return Annotated[list[Skill], Field(max_length=max_items), AfterValidator(_distinct)]  # type: ignore[valid-type]


@cache
def _currencies() -> frozenset[str]:
    import pycountry  # its database is read on first use, not at the app's start

    # XTS and XXX are ISO 4217's codes for "testing" and "no currency".
    return frozenset(c.alpha_3 for c in pycountry.currencies) - {"XTS", "XXX"}


def _iso_4217(code: str) -> str:
    if code not in _currencies():
        raise PydanticCustomError("currency", "must be an ISO 4217 currency code, such as BSD")
    return code


Currency = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{3}$"),
    AfterValidator(_iso_4217),
]

WebUrl = web_url(500)
Skill = line(50)
LongText = text(5000)
