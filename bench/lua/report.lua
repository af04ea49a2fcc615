-- Shared by every scenario: per-thread seeding, line files, and one JSON summary line at the end.
local M = {}

local threads = {}

function M.setup(thread)
  threads[#threads + 1] = thread
  thread:set("thread_id", #threads)
end

function M.seed()
  math.randomseed(os.time() * 1000 + (thread_id or 0))
end

function M.lines(name)
  local path = os.getenv("BENCH_DATA") .. "/" .. name
  local items = {}
  for line in io.lines(path) do
    if line ~= "" then items[#items + 1] = line end
  end
  assert(#items > 0, path .. " is empty")
  return items
end

local function ids(field)
  local out = {}
  if field ~= "-" then
    for id in field:gmatch("[^,]+") do out[#out + 1] = id end
  end
  return out
end

-- seekers.txt / employers.txt: "token application-ids notification-ids job-ids" per line (a
-- seeker's own applications and unread notifications, an employer's live jobs; "-" for none).
function M.accounts(name)
  local out = {}
  for _, line in ipairs(M.lines(name)) do
    local token, applications, notifications, jobs =
      line:match("^(%S+)%s*(%S*)%s*(%S*)%s*(%S*)$")
    out[#out + 1] = {
      auth = "Bearer " .. token,
      applications = ids(applications ~= "" and applications or "-"),
      notifications = ids(notifications ~= "" and notifications or "-"),
      jobs = ids(jobs ~= "" and jobs or "-"),
    }
  end
  return out
end

-- Scripts that count responses by status call this from response(); done() adds them up.
statuses = {}

function M.count(status)
  statuses[status] = (statuses[status] or 0) + 1
end

local function status_json()
  local total = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses") or {}
    for status, n in pairs(counts) do total[status] = (total[status] or 0) + n end
  end
  local parts = {}
  for status, n in pairs(total) do parts[#parts + 1] = string.format('"%d":%d', status, n) end
  return "{" .. table.concat(parts, ",") .. "}"
end

function M.done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f},"statuses":%s}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, status_json()))
end

return M
