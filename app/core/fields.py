"""Field types every domain's request bodies share: bounded text without control characters,
names without invisible characters, skill lists, ISO 4217 currencies, and http(s) URLs that fit
their column."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any

from annotated_types import GroupedMetadata, MaxLen
from pydantic import AfterValidator, HttpUrl, StringConstraints, UrlConstraints
from pydantic_core import PydanticCustomError

# Control characters break logs and PostgreSQL refuses NUL outright; tabs and newlines are
# allowed only in multi-line text.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_EXCEPT_NEWLINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _trimmed(min_length: int, max_length: int) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


def _refuse(pattern: re.Pattern[str]) -> Callable[[str], str]:
    def check(value: str) -> str:
        if pattern.search(value):
            raise PydanticCustomError("control_characters", "must not contain control characters")
        return value

    return check


# Each rule below is metadata for `Annotated`, so a schema writes `Annotated[str, Line(120)]`:
# a type the type checker understands, whose validation and JSON schema the rule supplies.


@dataclass(frozen=True)
class Line(GroupedMetadata):
    """A trimmed single line of text between the given lengths."""

    max_length: int
    min_length: int = 1

    def __iter__(self) -> Iterator[object]:
        yield _trimmed(self.min_length, self.max_length)
        yield AfterValidator(_refuse(_CONTROL))


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


@dataclass(frozen=True)
class SearchText(GroupedMetadata):
    """A full-text search as a person types it (PostgreSQL's websearch syntax: words, "quoted
    phrases", or, -word), trimmed, possibly empty, that PostgreSQL's parser can take."""

    max_length: int

    def __iter__(self) -> Iterator[object]:
        yield StringConstraints(strip_whitespace=True, max_length=self.max_length)
        yield AfterValidator(_refuse(_CONTROL))
        yield AfterValidator(_refuse_negation_runs)


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


@dataclass(frozen=True)
class Name(GroupedMetadata):
    """A trimmed single line that people see as someone's or something's name: a display name,
    a job title, a company name. Only visible characters and plain spaces."""

    max_length: int
    min_length: int = 1

    def __iter__(self) -> Iterator[object]:
        yield _trimmed(self.min_length, self.max_length)
        yield AfterValidator(_refuse_invisible)


@dataclass(frozen=True)
class Text(GroupedMetadata):
    """Trimmed multi-line text (newlines and tabs allowed) between the given lengths."""

    max_length: int
    min_length: int = 0

    def __iter__(self) -> Iterator[object]:
        yield _trimmed(self.min_length, self.max_length)
        yield AfterValidator(_refuse(_CONTROL_EXCEPT_NEWLINES))


@dataclass(frozen=True)
class UrlLength(GroupedMetadata):
    """For `Annotated[HttpUrl, UrlLength(n)]`: an http(s) URL whose stored form fits a column
    of `n` characters."""

    max_length: int

    def __iter__(self) -> Iterator[object]:
        yield UrlConstraints(max_length=self.max_length)
        yield AfterValidator(self._fits)

    def _fits(self, url: HttpUrl) -> HttpUrl:
        # The column holds the normalised form, which can be longer than what was sent (a
        # trailing slash, percent-encoding, punycode): check the length of what is stored.
        if len(str(url)) > self.max_length:
            raise ValueError(f"The URL is too long: at most {self.max_length} characters")
        return url


def _distinct(skills: list[str]) -> list[str]:
    """The skills in their first spelling, each once however it is capitalised."""
    seen: set[str] = set()
    distinct = []
    for skill in skills:
        if skill.casefold() not in seen:
            seen.add(skill.casefold())
            distinct.append(skill)
    return distinct


@dataclass(frozen=True)
class SkillList(GroupedMetadata):
    """For `Annotated[list[Skill], SkillList(n)]`: at most `n` skills, duplicates
    (case-insensitively) dropped."""

    max_items: int

    def __iter__(self) -> Iterator[object]:
        yield MaxLen(self.max_items)
        yield AfterValidator(_distinct)


def _refuse_duplicates(values: list[Any]) -> list[Any]:
    if len(set(values)) != len(values):
        raise PydanticCustomError("duplicates", "must not list the same value twice")
    return values


@dataclass(frozen=True)
class DistinctList(GroupedMetadata):
    """For `Annotated[list[T], DistinctList(n)]`: at most `n` values, none twice (a 422, not a
    silent fix: a list of choices sent with a repeat is a client's mistake)."""

    max_items: int

    def __iter__(self) -> Iterator[object]:
        yield MaxLen(self.max_items)
        yield AfterValidator(_refuse_duplicates)


# The default of a PATCH field that may be left out but not sent as null (`title: Title =
# NOT_SENT`): its type refuses null, and an update applies only the fields sent
# (`model_dump(exclude_unset=True)`), so this value is never read. Typed Any because None is
# not of the field's type.
NOT_SENT: Any = None


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

WebUrl = Annotated[HttpUrl, UrlLength(500)]
Skill = Annotated[str, Line(50)]
LongText = Annotated[str, Text(5000)]
