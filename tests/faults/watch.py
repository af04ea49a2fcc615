"""Watching the real server from the outside while a fault is on."""

from __future__ import annotations

import threading
from types import TracebackType

import httpx

# A probe that does no I/O answers in microseconds; one that takes this long has hung.
PROBE_TIMEOUT = 5.0


class HealthWatch:
    """Polls GET /health from a thread for as long as it is open, recording every outcome.

    `failures` lists every answer that was not a 200 {"status": "ok"} within PROBE_TIMEOUT
    (including timeouts and refused connections); `answered` counts the good ones.
    """

    def __init__(self, base_url: str, interval: float = 0.05) -> None:
        self.base_url = base_url
        self.interval = interval
        self.answered = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=PROBE_TIMEOUT) as client:
            while not self._stop.is_set():
                try:
                    response = client.get("/health")
                except httpx.HTTPError as exc:
                    self.failures.append(f"{type(exc).__name__}: {exc}")
                else:
                    if response.status_code == 200 and response.json() == {"status": "ok"}:
                        self.answered += 1
                    else:
                        self.failures.append(f"{response.status_code}: {response.text}")
                self._stop.wait(self.interval)

    def __enter__(self) -> HealthWatch:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(PROBE_TIMEOUT * 2)

    def assert_healthy_throughout(self) -> None:
        assert not self.failures, self.failures[:5]
        assert self.answered > 0
