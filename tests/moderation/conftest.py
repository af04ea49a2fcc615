"""The marketplace fixtures (tests/factories.py) and the moderation cast (world.py)."""

import pytest

from tests.factories import Market, market
from tests.moderation.world import Cast, make_cast

__all__ = ["cast", "market"]


@pytest.fixture
async def cast(market: Market) -> Cast:
    return await make_cast(market)
