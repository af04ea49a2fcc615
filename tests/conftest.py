"""Real PostgreSQL and real Redis for every test, and the real processes the service meets.

The fixtures, factories and process starters live in tests/support/ and are loaded here as
plugins, so every area sees them without a conftest of its own; an area's conftest.py holds only
fixtures that its own tests use. Import helpers from tests.support.<module>, never from a
conftest.

- database.py: the session's migrated database (emptied after each test), `db`, run_alembic
- redis_db.py: the test Redis (one database per xdist worker), skipped without REDIS_URL
- app.py: settings, the app with its lifespan running, an in-process client
- factories.py: `market`, marketplace data made through the API
- server_process.py, cluster.py: Gunicorn as production runs it; two instances behind nginx
- mail.py, storage.py: an SMTP server and the queue worker; moto's S3 and the files client
- slow.py: the `slow` marker (tests that start a process) and its check
"""

import pytest

# Before the plugins below are imported: their asserts (and those of the helpers they import)
# report the values they compared, as the tests' own do.
pytest.register_assert_rewrite("tests.support")

pytest_plugins = [
    "tests.support.slow",
    "tests.support.database",
    "tests.support.redis_db",
    "tests.support.app",
    "tests.support.factories",
    "tests.support.server_process",
    "tests.support.cluster",
    "tests.support.mail",
    "tests.support.storage",
]
