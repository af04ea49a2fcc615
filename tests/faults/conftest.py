"""Fixtures for fault tests: the real server between a real PostgreSQL or Redis and the faults
that production puts between them (a pooler, a proxy that fails, a Redis that goes away)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from app.core.db import parse_database_url
from tests.faults.pgbouncer import PgBouncer
from tests.support.tcp_fault import TcpFault, Upstream


@pytest.fixture
def session_url(database_url: str) -> URL:
    """The session's migrated database, parsed."""
    return parse_database_url(database_url).url


@pytest.fixture
def postgres_upstream(session_url: URL) -> Upstream:
    """Where the test PostgreSQL listens: (host, port), or its Unix socket's path."""
    port = session_url.port or 5432
    host = session_url.host or session_url.query.get("host")
    assert isinstance(host, str), "DATABASE_URL names several hosts"
    return f"{host}/.s.PGSQL.{port}" if host.startswith("/") else (host, port)


@pytest.fixture
def db_proxy(postgres_upstream: Upstream) -> Iterator[TcpFault]:
    """A fault proxy in front of the test PostgreSQL."""
    with TcpFault(postgres_upstream) as proxy:
        yield proxy


@pytest.fixture
def proxied_database_url(session_url: URL, db_proxy: TcpFault) -> str:
    """The session database, reached through `db_proxy`."""
    return session_url.set(host="127.0.0.1", port=db_proxy.port, query={}).render_as_string(
        hide_password=False
    )


@pytest.fixture
def pgbouncer(session_url: URL) -> Iterator[PgBouncer]:
    # Not under tmp_path: PgBouncer runs as an unprivileged user who must reach its folder.
    with tempfile.TemporaryDirectory(prefix="hmb-pgbouncer-") as workdir:
        bouncer = PgBouncer(session_url, Path(workdir)).start()
        yield bouncer
        bouncer.stop()
