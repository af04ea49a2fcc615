"""The deferred boot (app/boot.py) with a build whose routers fail to import, as the
predecessor's did in production: the worker must stop the whole server, never serve without
them."""

from __future__ import annotations

from fastapi import FastAPI

from app.boot import DeferredApp
from app.core.config import get_settings
from app.main import create_app


def build() -> FastAPI:
    from app.jobs.router import no_such_router  # type: ignore[attr-defined]  # ImportError

    api = create_app(get_settings())
    api.include_router(no_such_router)
    return api


app = DeferredApp(build, get_settings())
