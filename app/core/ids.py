"""Ids: PostgreSQL bigints, written in paths as plain ASCII digits."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Path
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

MAX_ID = 2**63 - 1  # bigint

# One spelling per id: pydantic alone would also take "+1", "01", " 1", "1_0" and "1.0" as 1
# (or 10), so one resource would answer at many URLs. No leading zero, no sign, no separators.
_PLAIN = re.compile(r"[1-9][0-9]{0,18}")


def _plain_digits(value: Any) -> Any:
    if isinstance(value, str) and not _PLAIN.fullmatch(value):
        raise PydanticCustomError(
            "id_format", "An id is written in plain digits 0-9, without a sign or leading zero"
        )
    return value


def parse_id(value: str) -> int | None:
    """The id `value` spells plainly, or None (another spelling, or past the bigint range)."""
    if not _PLAIN.fullmatch(value) or (number := int(value)) > MAX_ID:
        return None
    return number


IdPath = Annotated[int, Path(ge=1, le=MAX_ID), BeforeValidator(_plain_digits)]
"""Every `{..._id}` path parameter: a plain id within the bigint range, anything else a 422."""
