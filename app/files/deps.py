from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.files.storage import Storage, make_storage


async def get_storage(request: Request) -> Storage:  # async: no thread-pool hop
    """The app's storage backend, made on first use from its settings (it opens nothing)."""
    state = request.app.state
    storage: Storage | None = getattr(state, "storage", None)
    if storage is None:
        storage = state.storage = make_storage(state.settings)
    return storage


StorageDep = Annotated[Storage, Depends(get_storage)]
