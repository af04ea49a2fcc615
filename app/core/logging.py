"""Log lines on stderr, each carrying the current request id, timestamps in ISO 8601 UTC.

Production (and tests) write JSON lines; development writes one readable console format. Both
cover the app's lines, the access line and Gunicorn's and Uvicorn's own lines (GunicornLogger,
gunicorn.conf.py's logger_class), so a console shows one format, not three.

python-json-logger (with orjson) formats the records: a well-kept formatter instead of a
hand-rolled one; the stdlib logging tree stays the one every library already logs into. The
one exception is the access line (AccessLog), the only line written for every request.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

import orjson
from gunicorn.glogging import Logger as GunicornBaseLogger
from pythonjsonlogger.orjson import OrjsonFormatter

from app.core.request_context import current_request_id

if TYPE_CHECKING:
    from gunicorn.config import Config  # a heavy import; only its type is needed here

_HANDLER_NAME = "app-json"
ACCESS_LOGGER = "app.access"
# Every attribute a LogRecord has of its own; anything else on a record came from `extra=`.
_RECORD_FIELDS = set(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "request_id",
    "color_message",  # uvicorn's ANSI-coloured copy of the message
}


def iso_utc(created: float) -> str:
    """2026-12-01T16:40:01.123Z"""
    seconds = int(created)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{stamp}.{int((created - seconds) * 1000):03d}Z"


class JsonFormatter(OrjsonFormatter):
    def __init__(self) -> None:
        super().__init__(
            "{asctime}{levelname}{name}{message}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return iso_utc(record.created)


def console_line(
    created: float, level: str, logger: str, message: str, fields: Mapping[str, object]
) -> str:
    extras = " ".join(f"{key}={value}" for key, value in fields.items() if value is not None)
    return f"{iso_utc(created)} {level:<7} {logger}: {message}" + (f"  {extras}" if extras else "")


class ConsoleFormatter(logging.Formatter):
    """One readable line per record: time, level, logger, message, then key=value extras."""

    def format(self, record: logging.LogRecord) -> str:
        fields = {k: v for k, v in vars(record).items() if k not in _RECORD_FIELDS}
        fields["request_id"] = getattr(record, "request_id", None)
        line = console_line(
            record.created, record.levelname, record.name, record.getMessage(), fields
        )
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def make_formatter(console: bool) -> logging.Formatter:
    return ConsoleFormatter() if console else JsonFormatter()


class _Format:
    """The format configure_logging chose last, which the access line follows too."""

    console = False


def _app_handler() -> logging.Handler | None:
    handlers = logging.getLogger("app").handlers
    return next((h for h in handlers if h.get_name() == _HANDLER_NAME), None)


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return True


def configure_logging(level: str = "INFO", *, console: bool | None = None) -> None:
    """Send the app's loggers to stderr, as JSON or console lines (None: the format chosen
    last, JSON at first). Safe to call more than once."""
    # No caller or thread lookups for each record: no line here or in Gunicorn's format shows
    # them, and the access line is written for every request (nearly half its logging cost).
    # The process id stays: Gunicorn's lines carry it.
    logging._srcfile = None
    logging.logThreads = False
    logging.logMultiprocessing = False
    app_logger = logging.getLogger("app")
    app_logger.setLevel(level.upper())
    handler = _app_handler()
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.set_name(_HANDLER_NAME)
        handler.addFilter(_RequestIdFilter())
        app_logger.addHandler(handler)
    if console is not None:
        _Format.console = console
    handler.setFormatter(make_formatter(_Format.console))
    # The app's lines are complete JSON on their own; don't repeat them through the root logger.
    app_logger.propagate = False


class GunicornLogger(GunicornBaseLogger):
    """Gunicorn's logger (gunicorn.conf.py `logger_class`) writing its lines, and Uvicorn's,
    which the worker sends through the same handlers, in the app's format."""

    def setup(self, cfg: Config) -> None:
        super().setup(cfg)
        from app.core.config import ConfigError, load_settings

        try:
            console = load_settings().console_logs
        except ConfigError:  # on_starting refuses to start with it in one line of its own
            console = False
        for handler in self.error_log.handlers:
            handler.setFormatter(make_formatter(console))
        _Format.console = console


class AccessLog:
    """Writes each request's access line to stderr, in the same shape as the app's other
    lines (JSON: time, level, logger, message, the request's fields, request_id; or the
    console line in development).

    Through logging.Logger and the JSON formatter a line cost a large share of a whole /health
    (docs/performance.md); built with orjson it costs a fraction of that. The write itself, a
    system call per line, cost as much again under load, so the lines of one event-loop
    iteration go out in one write at its end (a few microseconds later: nothing waits long
    enough to be lost but a killed process's last iteration). The `app.access` logger's level
    still decides (LOG_LEVEL=WARNING silences it).
    """

    def __init__(self) -> None:
        self._logger = logging.getLogger(ACCESS_LOGGER)
        self._second = -1
        self._stamp = ""
        self._pending: list[str] = []

    def _time(self, now: float) -> str:
        """iso_utc(now), its seconds formatted once per second."""
        second = int(now)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._stamp}.{int((now - second) * 1000):03d}Z"

    def write(
        self,
        request_id: str,
        *,
        method: str,
        path: str,
        route: str,
        status: int,
        seconds: float,
        client: str,
    ) -> None:
        if not self._logger.isEnabledFor(logging.INFO):
            return
        if _Format.console:
            self._queue(self._console_line(request_id, method, path, status, seconds, client))
            return
        line = {
            "time": self._time(time.time()),
            "level": "INFO",
            "logger": ACCESS_LOGGER,
            "message": "request",
            "method": method,
            "path": path,
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 3),
            "client": client,
            "request_id": request_id,
        }
        self._queue(orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE).decode())

    @staticmethod
    def _console_line(
        request_id: str, method: str, path: str, status: int, seconds: float, client: str
    ) -> str:
        message = f"{method} {path} {status} {seconds * 1000:.1f} ms"
        fields = {"client": client, "request_id": request_id}
        return console_line(time.time(), "INFO", ACCESS_LOGGER, message, fields) + "\n"

    def _queue(self, line: str) -> None:
        if not self._pending:
            asyncio.get_running_loop().call_soon(self.flush)
        self._pending.append(line)

    def flush(self) -> None:
        lines, self._pending = self._pending, []
        sys.stderr.write("".join(lines))
