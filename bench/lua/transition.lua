-- POST /api/v1/order/{id}/{BENCH_VERB}: each thread walks its own slice of orders, each once.
package.path = "bench/lua/?.lua;" .. package.path
local c = require("common")
setup = c.setup
done = c.done
local ids, i, step, headers, verb
function init(args)
  ids = c.lines(os.getenv("BENCH_IDS"))
  i = (tid or 0) + 1
  step = 2
  headers = c.headers()
  verb = os.getenv("BENCH_VERB")
end
function request()
  local id = ids[i]
  i = i + step
  if id == nil then
    -- ran out of fresh orders: the remaining requests are counted as errors (409)
    id = ids[1]
  end
  return wrk.format("POST", "/api/v1/order/" .. id .. "/" .. verb, headers, "{}")
end
