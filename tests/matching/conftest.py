"""The marketplace fixtures (tests/factories.py)."""

from tests.factories import market

__all__ = ["market"]
