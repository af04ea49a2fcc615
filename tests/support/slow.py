"""The `slow` marker: tests that start a real process (a server, a worker, SMTP, moto, nginx,
PgBouncer, a replica, a browser) are marked `slow`, by the fixtures they use (SLOW_FIXTURES) or
in their module; a test not marked `slow` that leaves a process of its own running fails, so
`-m "not slow"` stays a subset that starts none."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.server_process import child_pids

# Fixtures that start a real process: a test using any of them is `slow`.
SLOW_FIXTURES = frozenset(
    {
        "server_factory",  # Gunicorn (tests/support/server_process.py)
        "cluster",  # two instances and nginx (tests/support/cluster.py)
        "fuzz_server",
        "smtp",  # aiosmtpd, and the worker processes beside it (tests/support/mail.py)
        "start_worker",
        "moto_server",  # the S3 server (tests/support/storage.py)
        "pgbouncer",
        "pair",  # the streaming replica (tests/core/test_read_replica.py)
        "server",  # the probe app's Gunicorn (tests/server/test_http.py)
    }
)
# Module-scoped processes that are costly to start: the tests of a module using one run on one
# pytest-xdist worker (an xdist_group; tasks.py runs --dist loadgroup), so it starts once.
ONE_WORKER_FIXTURES = frozenset({"cluster", "pair", "server"})
_CHILDREN_BEFORE = pytest.StashKey[set[int]]()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = getattr(item, "fixturenames", ())
        if SLOW_FIXTURES.intersection(names):
            item.add_marker(pytest.mark.slow)
        if ONE_WORKER_FIXTURES.intersection(names):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> object:
    item.stash[_CHILDREN_BEFORE] = child_pids(os.getpid())
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> object:
    """A test outside the slow set must not have a process of its own running (a command it
    ran to completion is fine)."""
    result = yield
    if item.get_closest_marker("slow") is None:
        started = child_pids(os.getpid()) - item.stash.get(_CHILDREN_BEFORE, set())
        if started:
            commands = [_command_line(pid) for pid in sorted(started)]
            pytest.fail(
                f"a test not marked slow has processes running: {commands}; mark it "
                "@pytest.mark.slow or add the fixture that starts them to SLOW_FIXTURES "
                "(tests/support/slow.py)"
            )
    return result


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return f"pid {pid} (gone)"
