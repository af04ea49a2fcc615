"""Who is calling, as most routes and rules need it: the account's id and role, read without
loading the users row (app/identity/deps.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class Caller(Protocol):
    """What a rule needs to know of who is acting: an account's id and role. Both the
    signed-in caller (`SignedIn`) and a full `User` row are one."""

    @property
    def id(self) -> int: ...

    @property
    def role(self) -> str: ...


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The signed-in account's id and role, as the caller check reads them (two columns, no ORM
    object). The full users row (profile, flags, password hash) is `CurrentAccount`, for the
    routes that show or change the account."""

    id: int
    role: str
