"""The caller, when there is one: public job pages show more to the job's owner."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.auth.deps import SettingsDep, get_current_user, get_token_claims, oauth2_scheme
from app.core.db import SessionDep
from app.users.models import User


async def get_optional_user(
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> User | None:
    """None without a token; a token that is sent must be valid (401 otherwise)."""
    if not token:
        return None
    return await get_current_user(session, await get_token_claims(settings, token))


OptionalUser = Annotated[User | None, Depends(get_optional_user)]
