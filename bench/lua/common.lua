-- Shared by every bench script: auth header, thread numbering, a JSON summary line for run.py.
local M = {}
local counter = 0

function M.setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

function M.headers()
  return {
    ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN"),
    ["Content-Type"] = "application/json",
  }
end

function M.lines(path)
  local t = {}
  for line in io.lines(path) do
    if #line > 0 then t[#t + 1] = line end
  end
  return t
end

function M.done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'JSON{"requests":%d,"duration_us":%d,"errors_status":%d,"errors_connect":%d,"errors_timeout":%d,"errors_read":%d,"errors_write":%d,"p50":%d,"p99":%d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.timeout, e.read, e.write,
    latency:percentile(50), latency:percentile(99)))
end

return M
