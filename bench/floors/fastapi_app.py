"""A bare FastAPI app: the startup floor, and the two usual ways to write /health in FastAPI
(a plain `def`, which FastAPI runs in the threadpool, and an `async def`), to compare with the
service's InlineJSONRoute."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/health-async")
async def health_async() -> dict[str, str]:
    return {"status": "ok"}
