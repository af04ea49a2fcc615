from tests.server_process import server_factory  # noqa: F401 - the shared fixture
