-- GET /api/jobs/{id} over the live seeded jobs, a random one per request.
package.path = os.getenv("BENCH_LUA") .. "/?.lua;" .. package.path
local report = require("report")
setup = report.setup
done = report.done
local ids

function init(args)
  report.seed()
  ids = report.lines("job_ids.txt")
end

function request()
  return wrk.format("GET", "/api/jobs/" .. ids[math.random(#ids)])
end
