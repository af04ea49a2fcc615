from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.files.storage import Storage
from app.services import services


async def get_storage(request: Request) -> Storage:  # async: no thread-pool hop
    return services(request).storage


StorageDep = Annotated[Storage, Depends(get_storage)]
