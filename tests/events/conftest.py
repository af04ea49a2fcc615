"""Live events across real Gunicorn instances sharing one PostgreSQL and Redis."""

from tests.server_process import server_factory  # noqa: F401 - the shared fixture
