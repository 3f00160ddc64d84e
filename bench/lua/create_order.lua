-- POST /api/v1/order with a unique idempotency key per request.
package.path = "bench/lua/?.lua;" .. package.path
local c = require("common")
setup = c.setup
done = c.done
local n, headers, prefix
function init(args)
  n = 0
  headers = c.headers()
  prefix = string.format("bench-%d-%d-", os.time(), tid or 0)
end
function request()
  n = n + 1
  local body = string.format([[{"name":"Bench order","address":"Storgata %d","city":"Oslo","postalCode":"0155","countryCode":"NO","email":"b%d@example.com","phoneNumber":"+4791234567","contactPersonName":"Bench Customer","workflowCustomId":"installation","customFields":[{"customId":"charger_type","value":"11 kW"}],"metadata":{"erpId":"x"},"idempotencyKey":"%s%d"}]], n % 200 + 1, n, prefix, n)
  return wrk.format("POST", "/api/v1/order", headers, body)
end
