from tests.auth.conftest import db
from tests.factories import market

__all__ = ["db", "market"]
