"""The callers this instance has checked, kept in process, so that a signed-in request of an
account checked a moment ago skips the caller's SELECT (a statement and a round trip on every
signed-in request; app/identity/deps.py).

What the check reads of an account changes only by a write to the users table; a trigger
(migration 0013) NOTIFYs CALLERS_CHANNEL with the account's id when it commits, whoever wrote
(a route, the CLI, an operator's SQL), and every instance's LISTEN connection (the live
events' one, app/events/hub.py) drops the entry. So an entry is trusted only while that
connection holds the LISTEN and only if stored since it last came up (`signal_up`); a check
that raced a NOTIFY is not stored. The writer's own instance forgets at its commit
(`forget_on_commit`, the sessions' end), not a NOTIFY's delivery later. The admin check never
uses the copy: an admin's powers are read from the database on every request.
"""

from __future__ import annotations

import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.core.services import ServiceKey
from app.identity.caller import SignedIn

CALLERS_CHANNEL = "hmb_callers"
_FORGET_KEY = "hmb_forget_callers"


@dataclass(frozen=True, slots=True)
class _Entry:
    token_version: int
    epoch: int
    expires: float
    caller: SignedIn


@dataclass(frozen=True, slots=True)
class Mark:
    """Taken before the database is read: the entry is stored only if nothing was dropped
    since (a NOTIFY that arrived during the read may be about the row it read)."""

    epoch: int
    drops: int


class KnownCallers:
    MAX_ENTRIES = 10_000
    # Belt and braces: no entry outlives this, whatever a bug in the signal would let pass.
    TTL_SECONDS = 60.0

    def __init__(self) -> None:
        self._entries: OrderedDict[int, _Entry] = OrderedDict()
        self._epoch = 0
        self._drops = 0
        self._trusted = False
        self._want_signal: Callable[[], None] | None = None
        _instances.add(self)

    # The invalidation signal (app/events/hub.py carries it, as the response cache's).
    def follow(self, start_signal: Callable[[], None]) -> None:
        self._want_signal = start_signal

    def signal_up(self) -> None:
        self._epoch += 1
        self._trusted = True

    def signal_lost(self) -> None:
        self._epoch += 1
        self._trusted = False
        self._entries.clear()

    def dropped(self, payload: str) -> None:
        """A committed write changed the account `payload` (an id), or all of them ('*')."""
        self._drops += 1
        if payload == "*":
            self._entries.clear()
        elif payload.isdigit():
            self._entries.pop(int(payload), None)

    def forget(self, user_id: int) -> None:
        self._drops += 1
        self._entries.pop(user_id, None)

    def get(self, user_id: int, token_version: int) -> SignedIn | None:
        if not self._trusted:
            if self._want_signal is not None:
                self._want_signal()
            return None
        entry = self._entries.get(user_id)
        if (
            entry is None
            or entry.token_version != token_version
            or entry.epoch != self._epoch
            or entry.expires < time.monotonic()
        ):
            return None
        return entry.caller

    def mark(self) -> Mark:
        return Mark(self._epoch, self._drops)

    def put(self, mark: Mark, token_version: int, caller: SignedIn) -> None:
        if not self._trusted or mark != Mark(self._epoch, self._drops):
            return
        expires = time.monotonic() + self.TTL_SECONDS
        self._entries[caller.id] = _Entry(token_version, self._epoch, expires, caller)
        self._entries.move_to_end(caller.id)
        if len(self._entries) > self.MAX_ENTRIES:
            self._entries.popitem(last=False)


KNOWN_CALLERS: ServiceKey[KnownCallers] = ServiceKey("known_callers")

# Every app's copy in this process (one in production): the writer forgets in each.
_instances: weakref.WeakSet[KnownCallers] = weakref.WeakSet()


def forget_on_commit(session: AsyncSession, user_id: int) -> None:
    """Once `session` commits (and only if it does), this process forgets the account at once;
    other instances when the trigger's NOTIFY reaches them."""
    sync_session = session.sync_session
    if _FORGET_KEY not in sync_session.info:
        sync_session.info[_FORGET_KEY] = set()
        event.listen(sync_session, "after_commit", _forget)
        event.listen(sync_session, "after_rollback", _keep)
    sync_session.info[_FORGET_KEY].add(user_id)


def _forget(sync_session: Session) -> None:
    forgotten: set[int] = sync_session.info[_FORGET_KEY]
    for user_id in forgotten:
        for known in list(_instances):
            known.forget(user_id)
    forgotten.clear()


def _keep(sync_session: Session) -> None:
    sync_session.info[_FORGET_KEY].clear()
