"""`python -m app worker`: the background worker (Procrastinate), and every module of tasks.

It runs the jobs the API enqueues (emails, password resets) and the periodic ones on
Procrastinate's scheduler (stalled-job recovery, token cleaning). SIGTERM or Ctrl-C stops it
taking new jobs, lets running ones finish (30 s at most) and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import logging
import signal
import sys
import time
from typing import Any

import procrastinate
import psycopg
import psycopg_pool
from procrastinate.exceptions import ConnectorException
from procrastinate.worker import Worker

from app.core.config import ConfigError, Settings, load_settings
from app.core.db import Database, parse_database_url
from app.core.logging import configure_logging
from app.queue.connections import queue_pool
from app.queue.registry import WorkerRuntime, queue_app

logger = logging.getLogger("app.worker")

# Imported explicitly, like the routers: a task module that fails to import stops the worker.
TASK_MODULES = [
    "app.queue.registry",
    "app.email.tasks",
    "app.auth.tasks",
    "app.notifications.tasks",
    "app.alerts.tasks",
    "app.events.tasks",
    "app.files.tasks",
    "app.weekly_matches.tasks",
]
GRACEFUL_SECONDS = 30.0  # running jobs get this long after SIGTERM
RECONNECT_MIN_SECONDS = 1.0
RECONNECT_MAX_SECONDS = 30.0
QUEUE_DISCONNECTS = (ConnectorException, psycopg.Error, psycopg_pool.PoolTimeout, OSError)


def add_worker_command(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "worker",
        help="run the background worker (emails, password resets, periodic tasks)",
        description=__doc__,
    )
    parser.set_defaults(handler=run_worker)


THROUGH_THE_POOLER = (
    "DATABASE_URL goes through PgBouncer and MIGRATION_DATABASE_URL (the direct endpoint) is "
    "not set: the queue's LISTEN and psycopg's prepared statements need a session of their own"
)


def queue_conninfo(settings: Settings) -> str:
    """A libpq URL for Procrastinate's psycopg pool. It LISTENs for new jobs, which PgBouncer's
    transaction mode cannot carry, so MIGRATION_DATABASE_URL (the direct endpoint) wins."""
    target = parse_database_url(settings.migration_database_url or settings.database_url)
    url = target.url.set(drivername="postgresql")
    if "ssl" in target.connect_args:
        url = url.update_query_dict({"sslmode": target.connect_args["ssl"]})
    return url.render_as_string(hide_password=False)


async def _supervise(app: procrastinate.App, options: dict[str, Any]) -> None:
    """Run Procrastinate's worker until SIGTERM/SIGINT. Procrastinate stops its worker when the
    database goes away (its listener or heartbeat fails); here it is started again, with
    backoff, in the same process, so an outage heals without a restart. Jobs the lost worker
    was running are picked up by the stalled-job recovery."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    current: list[Worker] = []

    def stop() -> None:
        stopping.set()
        for worker in current:
            worker.stop()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop)
    # Logged once SIGTERM is handled: a stop sent on seeing this line is a clean stop.
    logger.info("worker started (concurrency %d)", options["concurrency"])
    delay = RECONNECT_MIN_SECONDS
    try:
        while not stopping.is_set():
            worker = Worker(app, install_signal_handlers=False, **options)
            current[:] = [worker]
            started = time.monotonic()
            try:
                await worker.run()
            except QUEUE_DISCONNECTS as exc:
                logger.warning("worker lost the database: %s", str(exc).strip().splitlines()[-1])
            if stopping.is_set():
                break
            if time.monotonic() - started > RECONNECT_MAX_SECONDS:
                delay = RECONNECT_MIN_SECONDS
            logger.warning("worker restarting its loop in %.0f s", delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), delay)
            delay = min(delay * 2, RECONNECT_MAX_SECONDS)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


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
    if database.target.pgbouncer and settings.migration_database_url is None:
        print(f"Refusing to start: {THROUGH_THE_POOLER}", file=sys.stderr)
        return 1
    for module in TASK_MODULES:
        importlib.import_module(module)
    connector = procrastinate.PsycopgConnector(
        pool_factory=queue_pool,
        conninfo=queue_conninfo(settings),
        min_size=1,
        max_size=settings.worker_concurrency + 2,
    )
    stalled = settings.worker_stalled_seconds
    worker_runtime = WorkerRuntime(settings, database)
    options: dict[str, Any] = {
        "concurrency": settings.worker_concurrency,
        "additional_context": {"runtime": worker_runtime},
        "delete_jobs": "successful",
        "update_heartbeat_interval": stalled / 3,
        "stalled_worker_timeout": stalled,
        "shutdown_graceful_timeout": GRACEFUL_SECONDS,
    }
    try:
        with queue_app.replace_connector(connector) as app:
            async with app.open_async():
                await _supervise(app, options)
    finally:
        await worker_runtime.aclose()
        await database.dispose()
    logger.info("worker stopped")
    return 0
