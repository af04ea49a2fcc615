"""DATABASE_URL in any form an operator pastes, made into what SQLAlchemy and asyncpg accept."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url

from app.core.config import Settings
from app.core.db.pooler import POOLER_CONNECT_ARGS

_POSTGRES_DRIVERS = {
    "postgres",
    "postgresql",
    "postgresql+asyncpg",
    "postgresql+psycopg",
    "postgresql+psycopg2",
    "postgresql+pg8000",
}
_SSL_MODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}
_SSL_ALIASES = {
    "true": "require",
    "1": "require",
    "on": "require",
    "false": "disable",
    "0": "disable",
    "off": "disable",
}
# Query keys asyncpg takes as connect arguments; libpq-only ones (channel_binding, options,
# application_name, ...) are dropped because asyncpg or PgBouncer would reject them.
_KEPT_QUERY_KEYS = {"host", "port"}


class DatabaseURLError(ValueError):
    """DATABASE_URL cannot be used; the message never contains the URL or its password."""


@dataclass(frozen=True)
class DatabaseTarget:
    url: URL
    connect_args: dict[str, Any] = field(default_factory=dict)
    pgbouncer: bool = False
    dropped_params: tuple[str, ...] = ()

    @property
    def masked(self) -> str:
        return self.url.render_as_string(hide_password=True)


def parse_database_url(
    raw: str | None, *, pgbouncer: bool = False, name: str = "DATABASE_URL"
) -> DatabaseTarget:
    """Turn any URL form an operator pastes into one SQLAlchemy + asyncpg accept.

    Accepts postgres://, postgresql://, postgresql+<driver>:// with libpq query parameters,
    surrounding whitespace and quotes. Raises DatabaseURLError for anything else; its message
    names the variable (`name`) the URL came from.
    """
    if raw is None or not raw.strip().strip("'\"").strip():
        raise DatabaseURLError(f"{name} is not set")
    cleaned = raw.strip().strip("'\"").strip()
    try:
        url = make_url(cleaned)
    except (sa_exc.ArgumentError, ValueError):
        raise DatabaseURLError(f"{name} is not a valid database URL") from None
    if url.drivername not in _POSTGRES_DRIVERS:
        raise DatabaseURLError(f"{name} must be a PostgreSQL URL, not {url.drivername!r}")
    query_host = url.query.get("host")
    if not url.host and not query_host:
        raise DatabaseURLError(f"{name} has no host")
    if not url.database:
        raise DatabaseURLError(f"{name} has no database name")

    connect_args: dict[str, Any] = {}
    ssl_value = url.query.get("sslmode") or url.query.get("ssl")
    if isinstance(ssl_value, tuple):
        ssl_value = ssl_value[-1]
    if ssl_value is not None:
        mode = _SSL_ALIASES.get(ssl_value.lower(), ssl_value.lower())
        if mode not in _SSL_MODES:
            raise DatabaseURLError(f"{name} has an unknown sslmode {ssl_value!r}")
        connect_args["ssl"] = mode

    kept = {k: v for k, v in url.query.items() if k in _KEPT_QUERY_KEYS}
    dropped = tuple(sorted(k for k in url.query if k not in _KEPT_QUERY_KEYS | {"sslmode", "ssl"}))
    url = url.set(drivername="postgresql+asyncpg", query=kept)

    hosts = [url.host or "", *([query_host] if isinstance(query_host, str) else query_host or [])]
    uses_pooler = pgbouncer or any("-pooler" in h for h in hosts if h)
    if uses_pooler:
        # PgBouncer in transaction mode hands each transaction, and each statement outside one,
        # to any server connection: app/core/db/pooler.py.
        connect_args.update(POOLER_CONNECT_ARGS)
    return DatabaseTarget(url, connect_args, uses_pooler, dropped)


def migration_target(settings: Settings) -> DatabaseTarget:
    """What Alembic connects to: MIGRATION_DATABASE_URL (Neon's direct endpoint) wins, parsed
    once, so its connect arguments (`sslmode` as asyncpg's `ssl`) reach the DDL connection. A
    URL rendered back to text has lost them: sslmode=verify-full would silently become
    asyncpg's default, `prefer`."""
    raw = settings.migration_database_url or settings.database_url
    return parse_database_url(raw, pgbouncer=settings.db_pgbouncer)
