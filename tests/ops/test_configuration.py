"""What a real server logs about its configuration: the effective configuration (masked) and
the no-Redis warning at start, and log lines in one format with ISO 8601 UTC times. (The
settings rules themselves, aliases and production refusals, are in tests/core/test_config.py.)"""

from __future__ import annotations

import json
import re

import httpx
import pytest

from tests.support.server_process import STRONG_KEY, StartServer

PRODUCTION = {
    "ENVIRONMENT": "production",
    "SECRET_KEY": STRONG_KEY,
    "ALLOWED_ORIGINS": "https://hiremebahamas.com",
    "SMTP_HOST": "smtp.example.com",
}
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def _json_lines(log: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.splitlines() if line.startswith("{")]


@pytest.mark.slow
def test_production_logs_the_effective_configuration_masked_and_warns_without_redis(
    server_factory: StartServer, database_url: str
) -> None:
    password_url = database_url.replace("postgres@", "postgres:Very-Secret-Pa55@", 1)
    server = server_factory(
        {**PRODUCTION, "DATABASE_URL": password_url, "DB_POOL_SIZE": "7", "REDIS_URL": None}
    )
    server.wait_healthy()
    server.wait_for_log("effective configuration")
    server.wait_for_log("REDIS_URL is not set")
    log = server.log()
    assert "Very-Secret-Pa55" not in log
    assert STRONG_KEY not in log
    lines = _json_lines(log)
    (config,) = [line["config"] for line in lines if line["message"] == "effective configuration"]
    assert config["database_host"] == "127.0.0.1"
    assert config["pgbouncer"] is False
    assert (config["db_pool_size"], config["db_max_overflow"]) == (7, 0)
    assert config["redis"] is False
    assert config["allowed_origins"] == ["https://hiremebahamas.com"]
    (warning,) = [line for line in lines if "REDIS_URL is not set" in str(line["message"])]
    assert warning["level"] == "WARNING"
    assert "per instance" in str(warning["message"])


@pytest.mark.slow
def test_production_log_is_json_lines_with_iso_utc_times(
    server_factory: StartServer, database_url: str
) -> None:
    server = server_factory({**PRODUCTION, "DATABASE_URL": database_url})
    server.wait_healthy()
    assert httpx.get(server.url("/api/jobs")).status_code == 200  # the probes leave no line
    server.wait_for_log('"logger":"app.access"')
    server.wait_for_log('"logger":"app.main"')
    lines = server.log().splitlines()
    assert lines
    for line in lines:  # Gunicorn's, Uvicorn's, the app's and the access lines alike
        entry = json.loads(line)
        assert ISO_UTC.fullmatch(entry["time"]), line
    loggers = {json.loads(line)["logger"] for line in lines}
    assert {"gunicorn.error", "uvicorn.error", "app.main", "app.access"} <= loggers
    assert any("Booting worker with pid" in line for line in lines)


@pytest.mark.slow
def test_development_console_is_one_readable_format(
    server_factory: StartServer, database_url: str
) -> None:
    server = server_factory({"ENVIRONMENT": "development", "DATABASE_URL": database_url})
    server.wait_healthy()
    assert httpx.get(server.url("/api/jobs")).status_code == 200  # the probes leave no line
    server.wait_for_log("app.access: GET /api/jobs 200")
    server.wait_for_log("app.config: effective configuration")
    lines = server.log().splitlines()
    line_shape = re.compile(rf"{ISO_UTC.pattern} (DEBUG|INFO|WARNING|ERROR|CRITICAL) +[\w.]+: ")
    for line in lines:
        assert line_shape.match(line), line
    assert any("gunicorn.error: Booting worker with pid" in line for line in lines)
    assert any("uvicorn.error: Application startup complete" in line for line in lines)
    assert any("app.config: effective configuration" in line for line in lines)


def test_zero_web_concurrency_is_refused_in_one_line(server_factory: StartServer) -> None:
    # (Gunicorn itself reads a non-numeric or negative value before gunicorn.conf.py runs;
    # `python -m app serve` refuses those first: tests/server/test_serve.py.)
    server = server_factory({"WEB_CONCURRENCY": "0"})
    assert server.wait_exit() == 2
    log = server.log()
    assert "Invalid WEB_CONCURRENCY '0': it must be a whole number of at least 1." in log
    assert "Booting worker" not in log
