-- A day on the site: ~70% anonymous browsing (the list, a search, a job page, the stats),
-- ~25% signed-in reads (profile, an own application, notifications, an employer's jobs) and
-- ~5% writes (save a job, apply to one, mark a notification read), as many distinct users.
-- The writes stay valid over repeated runs: saving is idempotent (PUT), marking read is too,
-- and applying twice is a 409 Conflict, which is expected and counted by status in the summary.
package.path = os.getenv("BENCH_LUA") .. "/?.lua;" .. package.path
local report = require("report")
setup = report.setup
done = report.done
local ids, queries, seekers, employers

function init(args)
  report.seed()
  ids = report.lines("job_ids.txt")
  queries = report.lines("search_queries.txt")
  seekers = report.accounts("seekers.txt")
  employers = report.accounts("employers.txt")
end

local function pick(items)
  return items[math.random(#items)]
end

local function get(path, who)
  return wrk.format("GET", path, who and { ["Authorization"] = who.auth } or nil)
end

local function anonymous(r)
  if r < 20 then return get("/api/jobs?limit=20") end
  if r < 40 then return get("/api/jobs?" .. pick(queries)) end
  if r < 65 then return get("/api/jobs/" .. pick(ids)) end
  return get("/api/stats")
end

local function signed_in(r)
  local seeker = pick(seekers)
  if r < 77 then return get("/api/users/me", seeker) end
  if r < 83 then return get("/api/applications/" .. pick(seeker.applications), seeker) end
  if r < 89 then return get("/api/notifications", seeker) end
  return get("/api/employer/jobs", pick(employers))
end

local function write(r)
  local seeker = pick(seekers)
  local headers = { ["Authorization"] = seeker.auth, ["Content-Type"] = "application/json" }
  if r < 97 or #seeker.notifications == 0 and r >= 99 then
    return wrk.format("PUT", "/api/jobs/" .. pick(ids) .. "/save", headers)
  end
  if r < 99 then
    return wrk.format("POST", "/api/jobs/" .. pick(ids) .. "/applications", headers, "{}")
  end
  return wrk.format("POST", "/api/notifications/" .. pick(seeker.notifications) .. "/read", headers)
end

function request()
  local r = math.random() * 100
  if r < 70 then return anonymous(r) end
  if r < 95 then return signed_in(r) end
  return write(r)
end

function response(status, headers, body)
  report.count(status)
end
