"""JSON log lines on stderr, each carrying the current request id.

python-json-logger (with orjson) formats the records: a well-kept formatter instead of a
hand-rolled one; the stdlib logging tree stays the one every library already logs into.
"""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.orjson import OrjsonFormatter

from app.core.request_context import current_request_id

_HANDLER_NAME = "app-json"


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return True


def configure_logging(level: str = "INFO") -> None:
    """Send the app's loggers to stderr as JSON. Safe to call more than once."""
    # No caller or thread lookups for each record: no line here or in Gunicorn's format shows
    # them, and the access line is written for every request (nearly half its logging cost).
    # The process id stays: Gunicorn's lines carry it.
    logging._srcfile = None
    logging.logThreads = False
    logging.logMultiprocessing = False
    app_logger = logging.getLogger("app")
    app_logger.setLevel(level.upper())
    if any(h.get_name() == _HANDLER_NAME for h in app_logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(_RequestIdFilter())
    handler.setFormatter(
        OrjsonFormatter(
            "{asctime}{levelname}{name}{message}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    app_logger.addHandler(handler)
    # The app's lines are complete JSON on their own; don't repeat them through the root logger.
    app_logger.propagate = False
