"""Password hashing (bcrypt through libpass, always off the event loop), JWT access tokens
(PyJWT, HS256 pinned, issuer and audience checked) and opaque refresh tokens."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from passlib.context import CryptContext

from app.core.config import Settings
from app.core.ids import parse_id

ACCESS_TOKEN_TYPE = "access"  # noqa: S105 - a claim value, not a secret
JWT_ALGORITHM = "HS256"


class PasswordHasher:
    """bcrypt at the configured cost; hashes made at another cost are flagged for rehash."""

    def __init__(self, rounds: int) -> None:
        self._context = CryptContext(schemes=["bcrypt"], bcrypt__rounds=rounds)
        self._dummy_hash: str | None = None

    def _verify_against_dummy(self, password: str) -> None:
        # Unknown emails are verified against a real hash so they take as long as wrong
        # passwords. Made on first use (a bcrypt hash at cost 12 would slow the app's start).
        if self._dummy_hash is None:
            self._dummy_hash = self._context.hash(secrets.token_urlsafe(16))
        self._context.verify(password, self._dummy_hash)

    def hash_sync(self, password: str) -> str:
        return self._context.hash(password)

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._context.hash, password)

    async def verify(self, password: str, stored_hash: str | None) -> tuple[bool, str | None]:
        """(matches, new hash if the stored one should be upgraded)."""
        if stored_hash is None:
            await asyncio.to_thread(self._verify_against_dummy, password)
            return False, None
        return await asyncio.to_thread(self._context.verify_and_update, password, stored_hash)

    async def warm_up(self) -> None:
        """Load the bcrypt backend and run it once so the first login pays no setup cost."""
        await asyncio.to_thread(self._verify_against_dummy, "warm-up")


class TokenError(Exception):
    pass


def create_access_token(
    settings: Settings,
    *,
    user_id: int,
    role: str,
    token_version: int,
    session_id: uuid.UUID | None = None,
) -> tuple[str, int]:
    """A signed access token and its lifetime in seconds. `session_id` is the refresh-token
    family the token was issued to, so a password change can tell the caller's session apart."""
    now = datetime.now(UTC)
    ttl = timedelta(minutes=settings.access_token_ttl_minutes)
    claims = {
        "sub": str(user_id),
        "role": role,
        "ver": token_version,
        "sid": session_id.hex if session_id else None,
        "type": ACCESS_TOKEN_TYPE,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "jti": uuid.uuid4().hex,
    }
    import jwt  # on first use, not at boot: see _verified_claims

    return jwt.encode(claims, settings.secret_key, algorithm=JWT_ALGORITHM), int(
        ttl.total_seconds()
    )


def decode_access_token(settings: Settings, token: str) -> dict[str, Any]:
    """The verified claims of an access token, `sub` made the account's id (an int)."""
    claims = _verified_claims(
        settings.secret_key, settings.jwt_audience, settings.jwt_issuer, token
    )
    if claims["exp"] <= time.time():  # still checked on every use: the verdict below is cached
        raise TokenError("Signature has expired")
    return dict(claims)


# A client sends the same access token with every request for its whole lifetime, and
# verifying it (base64, JSON, HMAC, the claims) cost a signed-in read more CPU than its own
# query (bench/profile.py). A token is verified in full once; afterwards only its expiry is
# checked again. Keyed by the secret, issuer and audience as well as the token, so a token is
# never taken on another key's word; a token that fails is not kept. ~1.5 KB an entry.
@functools.lru_cache(maxsize=2048)
def _verified_claims(secret: str, audience: str, issuer: str, token: str) -> dict[str, Any]:
    # PyJWT is loaded by the first token, not by the worker's boot, which only /health must
    # wait for: it loads `cryptography` when that is installed (~30 ms; dev installs it for
    # moto, production does not) for algorithms this service never uses.
    import jwt

    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            audience=audience,
            issuer=issuer,
            options={"require": ["sub", "exp", "iat", "jti", "type", "ver"]},
        )
    except jwt.PyJWTError as exc:
        raise TokenError(str(exc)) from None
    if claims.get("type") != ACCESS_TOKEN_TYPE:
        raise TokenError("not an access token")
    user_id = parse_id(claims["sub"]) if isinstance(claims["sub"], str) else None
    if user_id is None or type(claims["ver"]) is not int:
        raise TokenError("malformed claims")
    return {**claims, "sub": user_id}


def new_refresh_token() -> str:
    """An opaque refresh token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    """What the database keeps of a refresh token: its SHA-256, hex. A leaked table row cannot
    be replayed, and the token has enough entropy that no salt or slow hash is needed."""
    return hashlib.sha256(token.encode()).hexdigest()
