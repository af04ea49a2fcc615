-- A signed-in GET as many distinct seeded users, a random one per request (their tokens were
-- issued by logging each in through the API: bench/prepare.py).
--   wrk ... -s signed_in.lua http://host/api/users/me -- seekers /api/users/me
--   wrk ... -s signed_in.lua http://host/api/applications -- seekers /api/applications/{id}
--   wrk ... -s signed_in.lua http://host/api/jobs -- employers /api/jobs/{job}/candidate-matches
-- The first argument names the accounts (seekers.txt or employers.txt), the second the path;
-- "{id}" becomes one of that user's own applications, "{job}" one of that employer's live jobs.
-- A path prefix in the URL (the floor's /session) is kept.
package.path = os.getenv("BENCH_LUA") .. "/?.lua;" .. package.path
local report = require("report")
setup = report.setup
done = report.done
local accounts, template, prefix

function init(args)
  report.seed()
  accounts = report.accounts(args[1] .. ".txt")
  template = args[2]
  prefix = (wrk.path:gsub("/api/.*$", ""))
end

function request()
  local who = accounts[math.random(#accounts)]
  local path = template
  if path:find("{id}", 1, true) then
    path = path:gsub("{id}", who.applications[math.random(#who.applications)])
  end
  if path:find("{job}", 1, true) then
    path = path:gsub("{job}", who.jobs[math.random(#who.jobs)])
  end
  return wrk.format("GET", prefix .. path, { ["Authorization"] = who.auth })
end
