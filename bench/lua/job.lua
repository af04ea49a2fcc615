-- GET /api/jobs/{id} over the live seeded jobs, a random one per request.
package.path = os.getenv("BENCH_LUA") .. "/?.lua;" .. package.path
local report = require("report")
setup = report.setup
done = report.done
local ids, prefix

function init(args)
  report.seed()
  ids = report.lines("job_ids.txt")
  prefix = (wrk.path:gsub("/api/jobs.*$", ""))  -- e.g. /session on the database floor
end

function request()
  return wrk.format("GET", prefix .. "/api/jobs/" .. ids[math.random(#ids)])
end
