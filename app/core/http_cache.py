"""HTTP caching of public GETs (DESIGN 3, HTTP conventions): what a CDN or browser may keep.

An anonymous public GET (the job list and page, the company list and page, the stats) is the
same for everyone: `Cache-Control: public` with a short shared-cache lifetime and a window in
which a CDN may serve it stale while it revalidates, and an `ETag` (a hash of the body), with
which a client's `If-None-Match` gets a 304 and no body. Everything else is personal or
token-bearing and must never be stored: RequestContextMiddleware gives every response that
does not say otherwise `Cache-Control: no-store`.

A public page is a `PublicReply`: its body, its ETag computed once when it is made, and its
gzip made at most once. The response cache (app/core/cache.py) keeps the reply itself, so a hit
recomputes neither (docs/performance.md).
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable
from functools import cached_property
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


# As app/core/http/gzip.py decides for every other response: smaller bodies go as they are.
GZIP_MINIMUM_SIZE = 1024
GZIP_LEVEL = 6


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


class PublicReply:
    """A public page's JSON body with what every reply of it repeats: the ETag (made here) and
    the gzip body (made on the first client that accepts it, then kept)."""

    def __init__(self, body: bytes, etag: str | None = None) -> None:
        self.body = body
        self.etag = etag or etag_of(body)

    @cached_property
    def gzipped(self) -> bytes | None:
        if len(self.body) < GZIP_MINIMUM_SIZE:
            return None
        compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
        return compressor.compress(self.body) + compressor.flush()


def _accepts_gzip(request: Request) -> bool:
    accept = request.headers.get("accept-encoding")
    return accept is not None and "gzip" in accept.lower()


def _matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 13.1.2: a weak comparison against each listed tag, or `*`."""
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


def public_json(request: Request, reply: PublicReply) -> Response:
    """The reply to an anonymous public GET or HEAD: publicly cacheable, with its ETag; a 304
    without a body when the client already holds it; gzip (made once per reply) for a client
    that accepts it, which GZipMiddleware then leaves as it is."""
    # Vary: the same URL signed in is another, private answer that no cache may hand out here.
    headers = {"ETag": reply.etag, "Cache-Control": PUBLIC_CACHE_CONTROL, "Vary": "Authorization"}
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and _matches(if_none_match, reply.etag):
        return Response(status_code=304, headers=headers)
    body = reply.body
    if len(body) >= GZIP_MINIMUM_SIZE:
        headers["Vary"] = "Authorization, Accept-Encoding"
        if _accepts_gzip(request) and reply.gzipped is not None:
            body = reply.gzipped
            headers["Content-Encoding"] = "gzip"
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
    would otherwise list every page twice. Their endpoints take `PublicReaderDep`: read
    anonymously, they may be served by the read replica."""

    def register(endpoint: F) -> F:
        router.head(path, include_in_schema=False, **kwargs)(endpoint)
        return router.get(path, **kwargs)(endpoint)

    return register
