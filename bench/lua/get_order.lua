-- GET /api/v1/order/{id} over a random sample of existing orders.
package.path = "bench/lua/?.lua;" .. package.path
local c = require("common")
setup = c.setup
done = c.done
local ids, i, headers
function init(args)
  ids = c.lines(os.getenv("BENCH_IDS"))
  i = tid or 0
  headers = c.headers()
end
function request()
  i = i + 1
  return wrk.format("GET", "/api/v1/order/" .. ids[(i % #ids) + 1], headers)
end
