-- POST /api/v1/order/{id}/{BENCH_VERB}: each order of the slice once. wrk runs 2 threads that
-- cannot share a counter, and one may serve far more requests than the other (they hold
-- different connections): the first walks the slice from its start, the second from its end, so
-- that an order is taken twice only once the two together have used the whole slice.
package.path = "bench/lua/?.lua;" .. package.path
local c = require("common")
setup = c.setup
done = c.done
local ids, i, step, headers, verb
function init(args)
  ids = c.lines(os.getenv("BENCH_IDS"))
  if (tid or 0) % 2 == 0 then
    i, step = 1, 1
  else
    i, step = #ids, -1
  end
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
