from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.core.services import core_services
from app.files.storage import STORAGE, Storage


async def get_storage(request: Request) -> Storage:  # async: no thread-pool hop
    return core_services(request).of(STORAGE)


StorageDep = Annotated[Storage, Depends(get_storage)]
