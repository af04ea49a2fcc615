-- GET /api/jobs?q=...&island=... with a random query string (already URL-encoded) per request,
-- from search_queries.txt or the file named by the script's first argument.
package.path = os.getenv("BENCH_LUA") .. "/?.lua;" .. package.path
local report = require("report")
setup = report.setup
done = report.done
local queries, prefix

function init(args)
  report.seed()
  queries = report.lines(args[1] or "search_queries.txt")
  prefix = (wrk.path:gsub("/api/jobs.*$", ""))  -- e.g. /session on the database floor
end

function request()
  return wrk.format("GET", prefix .. "/api/jobs?" .. queries[math.random(#queries)])
end
