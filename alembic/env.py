"""Alembic on the async engine. MIGRATION_DATABASE_URL (Neon's direct, non-pooler endpoint)
overrides DATABASE_URL for migrations only; an explicit sqlalchemy.url (tests) wins over both."""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from alembic import context
from app.all_models import Base
from app.core.config import load_settings
from app.core.db import DatabaseTarget, migration_target, parse_database_url

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _include_name(name: str | None, type_: str, _parent: object) -> bool:
    # Procrastinate's tables (revision 0003) are its own, not the models'.
    return not (type_ == "table" and name is not None and name.startswith("procrastinate_"))


def _target() -> DatabaseTarget:
    explicit = config.attributes.get("database_url")
    if explicit:
        return parse_database_url(explicit)
    return migration_target(load_settings())


def run_migrations_offline() -> None:
    context.configure(
        url=_target().url.render_as_string(hide_password=False),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        compare_type=True,
        include_name=_include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        include_name=_include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    target = _target()
    engine = create_async_engine(
        target.url, poolclass=pool.NullPool, connect_args=target.connect_args
    )
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
