"""GET /api/events: the caller's live stream (Server-Sent Events)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Header, Request
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from app.core.db import Database, SessionDep
from app.core.errors import DatabaseUnavailable, Unauthorized, error_responses
from app.core.ids import MAX_ID
from app.core.json import json_bytes
from app.core.routing import Router
from app.core.services import core_services
from app.events import service
from app.events.hub import EVENT_HUB, EventHub, StreamLimit, Subscription
from app.events.models import EventKind
from app.identity.deps import CurrentUser, TokenClaims
from app.identity.models import User

router = Router(tags=["events"])

_EVENT_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "description": "Send it back as Last-Event-ID."},
        "event": {"type": "string", "enum": [kind.value for kind in EventKind]},
        "data": {"type": "string", "description": "JSON"},
        "retry": {"type": "integer"},
    },
}

# What EventSource waits before reconnecting after a stream ends (milliseconds).
RETRY_MS = 2000


async def _sessions_ended(database: Database, user_id: int, version: int) -> bool:
    async with database.session() as session:
        user = await session.get(User, user_id)
        return (
            user is None
            or user.token_version != version
            or user.suspended_at is not None
            or user.deleted_at is not None
        )


async def _stream(
    hub: EventHub,
    database: Database,
    subscription: Subscription,
    version: int,
    last_id: int,
    deadline: float,
    heartbeat: float,
) -> AsyncIterator[bytes]:
    user_id = subscription.user_id
    try:
        yield f"retry: {RETRY_MS}\n\n".encode()
        while not subscription.closed:
            subscription.wake.clear()
            try:
                async with database.session() as session:
                    events = await service.after(session, user_id, last_id)
                if any(e.kind == EventKind.SESSION_ENDED for e in events) and (
                    await _sessions_ended(database, user_id, version)
                ):
                    yield b"event: session_ended\ndata: {}\n\n"
                    return
            except DatabaseUnavailable:
                return  # the client reconnects with Last-Event-ID and misses nothing
            for event in events:
                last_id = event.id
                if event.kind != EventKind.SESSION_ENDED:  # a past one, of an older token
                    data = json_bytes(event.payload)
                    yield b"id: %d\nevent: %s\ndata: %s\n\n" % (event.id, event.kind.encode(), data)
            if len(events) == service.BATCH:
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                await asyncio.wait_for(subscription.wake.wait(), min(heartbeat, remaining))
            except TimeoutError:
                yield b": heartbeat\n\n"
    finally:
        hub.unsubscribe(subscription)


@router.get(
    "/events",
    summary="The caller's live events (Server-Sent Events), resumable with Last-Event-ID",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "An endless `text/event-stream`: events `notification`, `message` "
            "and `unread` (each with an `id:`), `session_ended` before the stream closes "
            "because the account's sessions ended, and a `: heartbeat` comment line.",
            # One event as a parsed stream gives it (OpenAPI 3.1: `schema` is each event).
            "content": {"text/event-stream": {"schema": _EVENT_SCHEMA}},
        },
        **error_responses(Unauthorized, StreamLimit),
    },
)
async def event_stream(
    request: Request,
    user: CurrentUser,
    claims: TokenClaims,
    session: SessionDep,
    last_event_id: Annotated[
        int | None,
        Header(ge=0, le=MAX_ID, description="The `id:` of the last event received."),
    ] = None,
) -> StreamingResponse:
    app_services = core_services(request)
    settings = app_services.settings
    hub = app_services.of(EVENT_HUB)
    if last_event_id is None:
        last_event_id = await service.latest_id(session, user.id)
    # The stream ends when its access token expires, or after EVENTS_STREAM_MAX_SECONDS, and
    # the client reconnects with a fresh token: no stream outlives what signed it in.
    lifetime = min(settings.events_stream_max_seconds, float(claims["exp"]) - time.time())
    subscription = hub.subscribe(user.id)
    return StreamingResponse(
        _stream(
            hub,
            app_services.database,
            subscription,
            claims["ver"],
            last_event_id,
            time.monotonic() + lifetime,
            settings.events_heartbeat_seconds,
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        # Also when the stream never started (the client left first): the slot is given back.
        background=BackgroundTask(hub.unsubscribe, subscription),
    )
