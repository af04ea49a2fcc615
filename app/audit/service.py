"""The append-only audit log's one writer: admin actions, and what the service itself undoes
because of a user's change (a verification cleared by a rename)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditAction, AuditEntry
from app.core.request_context import current_request_id
from app.identity.caller import Caller


def record(
    session: AsyncSession,
    actor: Caller,
    action: AuditAction,
    target_type: str,
    target_id: int,
    reason: str,
) -> None:
    """Add the entry to the session: it is written in the same transaction as the action."""
    session.add(
        AuditEntry(
            actor_id=actor.id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            reason=reason,
            request_id=current_request_id(),
        )
    )
