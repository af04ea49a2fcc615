"""Signed one-click unsubscribe links (RFC 8058): `<user id>.<category>.<signature>`, an
HMAC-SHA256 under SECRET_KEY, so the POST works without signing in and nobody can forge one for
another account or another category."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Literal, get_args

from app.core.config import Settings

Category = Literal["new_application", "status_change", "messages", "job_alerts"]
CATEGORIES: tuple[str, ...] = get_args(Category)


def _signature(settings: Settings, user_id: int, category: str) -> str:
    digest = hmac.new(
        settings.secret_key.encode(), f"unsubscribe:{user_id}:{category}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def unsubscribe_url(settings: Settings, user_id: int, category: str) -> str:
    token = f"{user_id}.{category}.{_signature(settings, user_id, category)}"
    # The frontend forwards /api/* to this service.
    return f"{settings.link_base}/api/email/unsubscribe?token={token}"


def read_token(settings: Settings, token: str) -> tuple[int, str] | None:
    """The account and category a token unsubscribes, or None when it is not one of ours."""
    user_id, _, rest = token.partition(".")
    category, _, signature = rest.partition(".")
    if not user_id.isdigit() or len(user_id) > 18 or category not in CATEGORIES:
        return None
    expected = _signature(settings, int(user_id), category)
    if not hmac.compare_digest(expected, signature):
        return None
    return int(user_id), category
