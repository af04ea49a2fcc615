"""The production app behind the deferred boot (app/boot.py), with a build that waits until the
file named by BOOT_GATE exists: a test decides when the API is built, so it can look at the
worker before (the probes answer, `/ready` says 503, API requests wait) and after."""

from __future__ import annotations

import os
import time
from pathlib import Path

from fastapi import FastAPI

from app.boot import DeferredApp
from app.core.config import get_settings
from app.main import create_app

GATE_TIMEOUT = 60.0


def build() -> FastAPI:
    gate = Path(os.environ["BOOT_GATE"])
    deadline = time.monotonic() + GATE_TIMEOUT
    while not gate.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return create_app(get_settings())


app = DeferredApp(build, get_settings())
