"""The newcomer's path through `python3 tasks.py run`: the API and the worker beside it, no SMTP
server, the reset email written as a .eml file, its link followed, the new password working."""

from __future__ import annotations

import email
import email.policy
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.mail import link_token
from tests.support.server_process import ROOT, server_env

pytestmark = pytest.mark.slow


def _wait(condition: object, log: Path, process: subprocess.Popen[bytes]) -> object:
    deadline = time.monotonic() + 90
    while True:
        result = condition()  # type: ignore[operator]
        if result:
            return result
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)


def test_run_serves_the_api_with_a_worker_that_writes_eml_files(
    database_url: str, tmp_path: Path
) -> None:
    mail_dir, log = tmp_path / "mail", tmp_path / "run.log"
    env = server_env({"DATABASE_URL": database_url, "MAIL_DIR": str(mail_dir)})
    base = f"http://127.0.0.1:{env['PORT']}"
    with log.open("wb") as out:
        run = subprocess.Popen(
            [sys.executable, "tasks.py", "run"], cwd=ROOT, env=env, stdout=out, stderr=out
        )
    try:

        def ready() -> bool:
            try:
                return httpx.get(f"{base}/ready", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        _wait(ready, log, run)
        account = {"email": "newcomer@example.com", "password": "first passphrase"}
        registered = httpx.post(f"{base}/api/auth/register", json={**account, "full_name": "N"})
        assert registered.status_code == 201
        asked = httpx.post(f"{base}/api/auth/password-reset", json={"email": account["email"]})
        assert asked.status_code == 202

        [path] = _wait(lambda: list(mail_dir.glob("*password-reset*.eml")), log, run)  # type: ignore[misc]
        assert str(path) in log.read_text()  # the worker logs where it wrote it
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        token = link_token(message, "reset-password")  # type: ignore[arg-type]
        new = {"token": token, "new_password": "second passphrase"}
        assert httpx.post(f"{base}/api/auth/password-reset/confirm", json=new).status_code == 204
        signed_in = {"email": account["email"], "password": "second passphrase"}
        assert httpx.post(f"{base}/api/auth/login", json=signed_in).status_code == 200

        run.send_signal(signal.SIGTERM)
        assert run.wait(60) == 0, log.read_text()
        assert "worker stopped" in log.read_text()
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
