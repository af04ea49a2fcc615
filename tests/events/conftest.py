"""Live events across real Gunicorn instances sharing one PostgreSQL and Redis."""

from tests.cluster import cluster  # noqa: F401 - two instances behind nginx
from tests.server_process import server_factory  # noqa: F401 - the shared fixture
