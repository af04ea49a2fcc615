"""Operations tests: real servers, nginx in front of two instances, the operator CLI."""

from tests.auth.conftest import db  # noqa: F401 - the fixture, shared
from tests.cluster import cluster  # noqa: F401 - the fixture, shared
from tests.server_process import server_factory  # noqa: F401 - the fixture, shared
