-- POST /api/auth/login as many distinct seeded users, each request from its own client address
-- (X-Forwarded-For from a trusted proxy, 127.0.0.1), as real traffic from many people would be.
package.path = os.getenv("BENCH_LUA") .. "/?.lua;" .. package.path
local report = require("report")
setup = report.setup
done = report.done
local users
local password = os.getenv("BENCH_PASSWORD")
local next_user

function init(args)
  report.seed()
  users = report.lines("users.txt")
  next_user = math.random(#users)
end

function request()
  next_user = next_user % #users + 1
  local headers = {
    ["Content-Type"] = "application/json",
    ["X-Forwarded-For"] = string.format("10.%d.%d.%d",
      math.random(0, 255), math.random(0, 255), math.random(1, 254)),
  }
  local body = string.format('{"email":"%s","password":"%s"}', users[next_user], password)
  return wrk.format("POST", "/api/auth/login", headers, body)
end
