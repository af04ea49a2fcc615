"""Startup work that runs beside the app instead of delaying it: tracked, never fatal,
reported by /health/detailed and cancelled cleanly at shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

logger = logging.getLogger("app.background")


class StartupTasks:
    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[Any]] = {}
        self._failures: dict[str, str] = {}

    def start(self, name: str, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(work, name=f"startup:{name}")
        self._tasks[name] = task
        task.add_done_callback(lambda t: self._record(name, t))

    def _record(self, name: str, task: asyncio.Task[Any]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self._failures[name] = f"{type(exc).__name__}: {exc}"
            logger.error("startup task %s failed: %s", name, self._failures[name])

    def status(self) -> dict[str, str]:
        report = {}
        for name, task in self._tasks.items():
            if not task.done():
                report[name] = "running"
            elif task.cancelled():
                report[name] = "cancelled"
            elif name in self._failures:
                report[name] = f"failed: {self._failures[name]}"
            else:
                report[name] = "done"
        return report

    async def cancel_all(self) -> None:
        pending = [t for t in self._tasks.values() if not t.done()]
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
