from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from app.core.db import parse_database_url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A plain connection to the test database, to check what the API stored."""
    dsn = parse_database_url(database_url).url.set(drivername="postgresql")
    conn = await asyncpg.connect(dsn.render_as_string(hide_password=False))
    yield conn
    await conn.close()
