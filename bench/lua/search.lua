-- GET /api/jobs?q=...&island=... with a random query string (already URL-encoded) per request.
package.path = os.getenv("BENCH_LUA") .. "/?.lua;" .. package.path
local report = require("report")
setup = report.setup
done = report.done
local queries

function init(args)
  report.seed()
  queries = report.lines("search_queries.txt")
end

function request()
  return wrk.format("GET", "/api/jobs?" .. queries[math.random(#queries)])
end
