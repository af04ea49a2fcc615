from tests.auth.conftest import db

__all__ = ["db"]
