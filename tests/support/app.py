"""The app in process: settings for the test database and Redis, the app with its lifespan
running, and an HTTP client that talks to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.core.config import Settings
from app.main import create_app
from tests.support.helpers import make_client
from tests.support.server_process import TEST_SECRET


@pytest.fixture
def make_settings(database_url: str, redis_url: str | None) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "environment": "test",
            "secret_key": TEST_SECRET,
            "database_url": database_url,
            "redis_url": redis_url,
            "bcrypt_rounds": 4,
            "login_delay_seconds": 0.001,  # the slowdown is logged; its length is not tested
            "allowed_origins": ["https://hiremebahamas.com"],
            "allowed_origin_regex": r"https://hiremebahamas-[a-z0-9-]+\.vercel\.app",
            # The suite sends far more than 100 requests a minute from one address; the tests
            # of the limit itself (tests/ops/test_api_rate_limit.py) set their own.
            "rate_limit_per_minute": 1_000_000,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
async def start_app() -> AsyncIterator[Callable[[Settings], Any]]:
    """Factory: an app built from the given settings, its lifespan running until the test ends."""
    stacks = []

    async def start(settings: Settings) -> FastAPI:
        app = create_app(settings)
        ctx = app.router.lifespan_context(app)
        await ctx.__aenter__()
        stacks.append(ctx)
        return app

    yield start
    for ctx in reversed(stacks):
        await ctx.__aexit__(None, None, None)


@pytest.fixture
async def app(start_app: Callable[[Settings], Any], settings: Settings) -> FastAPI:
    return await start_app(settings)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(app) as c:
        yield c
