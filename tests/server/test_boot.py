"""Gunicorn with gunicorn.conf.py, booted as production boots it."""

from __future__ import annotations

import signal

import httpx

from tests.server_process import StartServer


def test_boots_one_uvicorn_worker_and_answers_health(
    server_factory: StartServer, database_url: str
) -> None:
    server = server_factory({"DATABASE_URL": database_url})
    server.wait_healthy()

    log = server.log()
    assert "Booting worker with pid" in log
    assert "Application startup complete" in log
    assert "app.worker.UvicornWorker" in log or "Using worker: app.worker.UvicornWorker" in log
    assert len(server.worker_pids()) == 1, server.log()
    assert httpx.get(server.url("/health")).json() == {"status": "ok"}

    server.send_signal(signal.SIGTERM)
    assert server.wait_exit() == 0
    assert "was sent SIGTERM" not in server.log()
