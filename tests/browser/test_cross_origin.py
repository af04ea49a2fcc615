"""A real browser on another origin, as the web frontend is: Debian's Chromium, headless, loads
page.html from a static server on a second localhost origin; the page registers, logs in,
renews its session with the httpOnly refresh cookie alone (credentials: 'include'), reads the
profile, lists jobs and uploads a PDF résumé (to the filesystem backend's upload URL, then
completes and downloads it) through fetch() against the real server. From an origin in
ALLOWED_ORIGINS it all works; from any other the browser blocks it, and the page says so.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.support import samples
from tests.support.flows import expect, user
from tests.support.server_process import ServerProcess, StartServer

PAGE_DIR = Path(__file__).resolve().parent
BROWSER_TIMEOUT = 90
JOB_TITLE = "Boat captain, Exuma cays"

pytestmark = pytest.mark.slow


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        if path := shutil.which(name):
            return path
    pytest.skip("Chromium is not installed (Debian package chromium: see .ci/apt-packages)")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def page_port() -> Iterator[int]:
    """A static server for page.html on 127.0.0.1 (also reachable as localhost)."""
    handler = functools.partial(_QuietHandler, directory=str(PAGE_DIR))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def run_page(page_origin: str, api: ServerProcess, query: str = "") -> dict[str, Any]:
    """Load page.html from `page_origin` in headless Chromium; the report the page wrote."""
    with tempfile.TemporaryDirectory(prefix="hmb-chromium-") as profile:
        result = subprocess.run(
            [
                _chromium(),
                *("--headless", "--no-sandbox", "--disable-gpu"),
                *("--disable-background-networking", "--disable-component-update"),
                *("--disable-sync", "--no-first-run", "--disable-quic"),
                f"--user-data-dir={profile}",
                # Virtual time waits for the page's fetches to settle before the DOM is dumped.
                "--virtual-time-budget=30000",
                "--dump-dom",
                f"{page_origin}/page.html?api={api.base_url}{query}",
            ],
            capture_output=True,
            text=True,
            timeout=BROWSER_TIMEOUT,
        )
    match = re.search(r'<pre id="result">(.*?)</pre>', result.stdout, re.DOTALL)
    assert match, f"no report in the page:\n{result.stdout}\n{result.stderr[-3000:]}"
    assert match.group(1) != "running", "the page's fetches never settled"
    return json.loads(match.group(1))


@pytest.fixture
def api(
    server_factory: StartServer, database_url: str, page_port: int, tmp_path: Path
) -> ServerProcess:
    server = server_factory(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": None,
            "ALLOWED_ORIGINS": f"http://127.0.0.1:{page_port}",
            "STORAGE_URL": f"file://{tmp_path / 'uploads'}",
        }
    )
    server.wait_healthy()
    return server


async def _publish_a_job(api: ServerProcess) -> None:
    async with user(api.base_url, "employer", api.env["DATABASE_URL"]) as employer:
        company = expect(
            await employer.post(
                "/api/companies", json={"name": "Cays Charters", "island": "Exuma"}
            ),
            201,
        )
        job = {
            "company_id": company["id"],
            "title": JOB_TITLE,
            "description": "Skipper day charters through the Exuma cays, swimming pigs included.",
            "location": "Staniel Cay",
            "island": "Exuma",
            "category": "maritime_fishing",
            "employment_type": "full_time",
            "status": "published",
        }
        expect(await employer.post("/api/jobs", json=job), 201)


async def test_page_on_an_allowed_origin_signs_in_refreshes_and_lists_jobs(
    api: ServerProcess, page_port: int
) -> None:
    await _publish_a_job(api)
    resume = base64.b64encode(samples.pdf(pages=3)).decode()

    report = run_page(f"http://127.0.0.1:{page_port}", api, f"&pdf={quote(resume)}")

    assert report["ok"], report
    assert report["steps"] == [
        {"name": "register", "status": 201},
        {"name": "login", "status": 200},
        {"name": "refresh", "status": 200},
        {"name": "me", "status": 200},
        {"name": "jobs", "status": 200},
        {"name": "announce", "status": 201},
        {"name": "upload", "status": 204},
        {"name": "complete", "status": 200},
        {"name": "download", "status": 200},
    ]
    assert report["resume"] == {"pages": 3, "same_bytes": True}
    assert report["refreshed_by_cookie"] is True
    assert report["me"].startswith("browser-")
    assert report["job_titles"] == [JOB_TITLE]
    assert report["cookie_visible_to_script"] is False


async def test_page_on_another_origin_is_blocked_by_the_browser(
    api: ServerProcess, page_port: int
) -> None:
    report = run_page(f"http://localhost:{page_port}", api)

    assert report == {"ok": False, "steps": [], "error": "TypeError: Failed to fetch"}
    # Not an unreachable server: it answers that origin's preflight, without allowing it.
    with httpx.Client(base_url=api.base_url) as client:
        preflight = client.options(
            "/api/auth/register",
            headers={
                "Origin": f"http://localhost:{page_port}",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
    assert "access-control-allow-origin" not in preflight.headers
