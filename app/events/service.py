"""Events: written in the transaction of what caused them, read back by the recipient's
streams. The database announces each one on commit (a trigger NOTIFYs CHANNEL), so every
instance learns of it, whichever instance wrote it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.events.models import Event, EventKind

BATCH = 100


def record(session: AsyncSession, user_id: int, kind: EventKind, payload: dict[str, Any]) -> None:
    session.add(Event(user_id=user_id, kind=kind, payload=payload))


async def latest_id(session: AsyncSession, user_id: int) -> int:
    stmt = select(func.coalesce(func.max(Event.id), 0)).where(Event.user_id == user_id)
    return int((await session.execute(stmt)).scalar_one())


async def after(session: AsyncSession, user_id: int, last_id: int) -> Sequence[Event]:
    """The user's events past `last_id`, oldest first, at most BATCH of them."""
    stmt = (
        select(Event)
        .where(Event.user_id == user_id, Event.id > last_id)
        .order_by(Event.id)
        .limit(BATCH)
    )
    return (await session.scalars(stmt)).all()
