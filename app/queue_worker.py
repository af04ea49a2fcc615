"""`python -m app worker`: the background worker (Procrastinate), and every module of tasks.

It runs the jobs the API enqueues (emails, password resets) and the periodic ones on
Procrastinate's scheduler (stalled-job recovery, token cleaning). SIGTERM or Ctrl-C stops it
taking new jobs, lets running ones finish (30 s at most) and exits 0.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

import procrastinate

from app.core.config import ConfigError, Settings, load_settings
from app.core.db import Database, parse_database_url
from app.core.logging import configure_logging
from app.core.tasks import WorkerRuntime, queue_app

logger = logging.getLogger("app.worker")

# Imported explicitly, like the routers: a task module that fails to import stops the worker.
TASK_MODULES = ["app.core.tasks", "app.email.tasks", "app.auth.tasks"]
GRACEFUL_SECONDS = 30.0  # running jobs get this long after SIGTERM


def add_worker_command(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "worker",
        help="run the background worker (emails, password resets, periodic tasks)",
        description=__doc__,
    )
    parser.set_defaults(handler=run_worker)


def queue_conninfo(settings: Settings) -> str:
    """A libpq URL for Procrastinate's psycopg pool. It LISTENs for new jobs, which PgBouncer's
    transaction mode cannot carry, so MIGRATION_DATABASE_URL (the direct endpoint) wins."""
    target = parse_database_url(settings.migration_database_url or settings.database_url)
    url = target.url.set(drivername="postgresql")
    if "ssl" in target.connect_args:
        url = url.update_query_dict({"sslmode": target.connect_args["ssl"]})
    return url.render_as_string(hide_password=False)


async def run_worker(_args: argparse.Namespace) -> int:
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"Refusing to start: {exc}", file=sys.stderr)
        return 1
    configure_logging(settings.log_level)
    database = Database(settings)
    if database.target is None:
        print(f"Refusing to start: {database.config_error}", file=sys.stderr)
        return 1
    for module in TASK_MODULES:
        importlib.import_module(module)
    connector = procrastinate.PsycopgConnector(
        conninfo=queue_conninfo(settings), min_size=1, max_size=settings.worker_concurrency + 2
    )
    stalled = settings.worker_stalled_seconds
    try:
        with queue_app.replace_connector(connector) as app:
            async with app.open_async():
                logger.info("worker started (concurrency %d)", settings.worker_concurrency)
                await app.run_worker_async(
                    concurrency=settings.worker_concurrency,
                    additional_context={"runtime": WorkerRuntime(settings, database)},
                    delete_jobs="successful",
                    update_heartbeat_interval=stalled / 3,
                    stalled_worker_timeout=stalled,
                    shutdown_graceful_timeout=GRACEFUL_SECONDS,
                    install_signal_handlers=True,
                )
    finally:
        await database.dispose()
    logger.info("worker stopped")
    return 0
