-- Shared by every scenario: per-thread seeding, line files, and one JSON summary line at the end.
local M = {}

local thread_count = 0

function M.setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_id", thread_count)
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

function M.done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end

return M
