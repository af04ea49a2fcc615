"""What the auth rules need from the request, without the request; shared by every auth
module below the routers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from app.core.config import Settings
from app.core.ratelimit import RateLimiter
from app.core.security import PasswordHasher


@dataclass(frozen=True)
class AuthContext:
    """What the rules need from the request, without the request."""

    settings: Settings
    hasher: PasswordHasher
    limiter: RateLimiter
    client_ip: str
    user_agent: str | None


def account_key(email: str) -> str:
    """The key an account's rate limit counters go under: a digest, so Redis never holds
    email addresses."""
    return hashlib.sha256(email.encode()).hexdigest()
