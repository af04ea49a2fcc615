"""HTTP caching of public GETs (DESIGN 3, HTTP conventions): what a CDN or browser may keep.

An anonymous public GET (the job list and page, the company list and page, the stats) is the
same for everyone: `Cache-Control: public` with a short shared-cache lifetime and a window in
which a CDN may serve it stale while it revalidates, and an `ETag` (a hash of the body), with
which a client's `If-None-Match` gets a 304 and no body. Everything else is personal or
token-bearing and must never be stored: RequestContextMiddleware gives every response that
does not say otherwise `Cache-Control: no-store`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response

F = TypeVar("F", bound=Callable[..., Any])

# Seconds: as long as the response cache (app/core/cache.py) keeps a public page, and a minute
# in which a CDN answers from its copy while it fetches a fresh one.
PUBLIC_MAX_AGE = 30
PUBLIC_STALE_WHILE_REVALIDATE = 60
PUBLIC_CACHE_CONTROL = (
    f"public, max-age=0, s-maxage={PUBLIC_MAX_AGE}, "
    f"stale-while-revalidate={PUBLIC_STALE_WHILE_REVALIDATE}"
)
PRIVATE_CACHE_CONTROL = "private, no-store"


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def _matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 13.1.2: a weak comparison against each listed tag, or `*`."""
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


def public_json(request: Request, body: bytes) -> Response:
    """The reply to an anonymous public GET or HEAD: publicly cacheable, with its ETag; a 304
    without a body when the client already holds it."""
    etag = etag_of(body)
    # Vary: the same URL signed in is another, private answer that no cache may hand out here.
    headers = {"ETag": etag, "Cache-Control": PUBLIC_CACHE_CONTROL, "Vary": "Authorization"}
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and _matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    if request.method == "HEAD":  # the headers a GET would get
        headers["Content-Length"] = str(len(body))
        body = b""
    return Response(body, media_type="application/json", headers=headers)


def private_json(body: bytes) -> Response:
    """The reply to a signed-in GET of a public URL: for this caller only, never stored."""
    return Response(
        body, media_type="application/json", headers={"Cache-Control": PRIVATE_CACHE_CONTROL}
    )


def public_get(router: APIRouter, path: str, **kwargs: Any) -> Callable[[F], F]:
    """`router.get(path, ...)` for a public page, and HEAD on the same endpoint: one route per
    method (each its own operation id), the HEAD one left out of the OpenAPI document, which
    would otherwise list every page twice. Their endpoints take `PublicReadSessionDep`: read
    anonymously, they may be served by the read replica."""

    def register(endpoint: F) -> F:
        router.head(path, include_in_schema=False, **kwargs)(endpoint)
        return router.get(path, **kwargs)(endpoint)

    return register
