"""Pure ASGI middleware, one module per concern (no BaseHTTPMiddleware: it costs a task per
request).

Outermost first: RequestContext (context: request id, client address, security headers,
`no-store` unless the route allows caching, access log, metrics) -> CORS (cors) ->
ApiRateLimit (ratelimit: RATE_LIMIT_PER_MINUTE per client on /api/*) -> GZip (gzip) ->
UnhandledError (unhandled: 500 in the error shape, inside CORS so browsers can read it) ->
BodySizeLimit (body_size: 413) -> FastAPI, whose router dispatches through a RouteIndex
(route_index: only the routes that could match the path). TrustedProxies (proxies) resolves
the client.
"""
