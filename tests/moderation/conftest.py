"""The moderation cast (world.py), on the marketplace fixtures."""

import pytest

from tests.moderation.world import Cast, make_cast
from tests.support.factories import Market


@pytest.fixture
async def cast(market: Market) -> Cast:
    return await make_cast(market)
