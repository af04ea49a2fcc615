"""What the tests share: fixtures (loaded as plugins by tests/conftest.py), factories, helpers
and the real processes the tests start."""
