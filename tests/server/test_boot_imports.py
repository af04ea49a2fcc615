"""What a booted worker has loaded: the libraries only some requests need (S3, image and PDF
inspection, the queue worker's Procrastinate and psycopg, SMTP, PyJWT for tokens, redis-py for
the first Redis client, made by the startup task that connects, prometheus-client for the first
scrape, `limits` for the first rate limit counted) wait for their first use, so the start-up
does not pay for them."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.server_process import ROOT, server_env

LOADED_ON_FIRST_USE = (
    "boto3",
    "botocore",
    "PIL",
    "pypdf",
    "procrastinate",
    "psycopg",
    "aiosmtplib",
    "jwt",
    "redis",
    "prometheus_client",
    "limits",
)

# `app.main.app` is what Gunicorn's worker asks for: create_app() with every router.
_BOOT = "import json, sys, app.main; app.main.app; print(json.dumps(sorted(sys.modules)))"


def test_a_booted_app_has_loaded_none_of_the_libraries_first_used_by_a_request(
    database_url: str,
) -> None:
    # The configuration that uses each of them: S3 storage, SMTP delivery, a database, Redis.
    env = server_env(
        {
            "DATABASE_URL": database_url,
            "STORAGE_URL": "s3://uploads/boot",
            "S3_ENDPOINT_URL": "http://127.0.0.1:9",
            "S3_ACCESS_KEY_ID": "boot",
            "S3_SECRET_ACCESS_KEY": "boot-secret",
            "SMTP_HOST": "127.0.0.1",
            "REDIS_URL": "redis://127.0.0.1:9/0",
        }
    )
    booted = subprocess.run(
        [sys.executable, "-c", _BOOT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert booted.returncode == 0, booted.stderr
    loaded = {name.partition(".")[0] for name in json.loads(booted.stdout.splitlines()[-1])}
    assert "fastapi" in loaded and "app" in loaded
    assert sorted(loaded.intersection(LOADED_ON_FIRST_USE)) == []
