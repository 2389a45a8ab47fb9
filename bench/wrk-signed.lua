-- wrk script for bench/run: closed-loop load of pre-signed voice webhooks.
-- Usage: wrk -s bench/wrk-signed.lua URL -- REQUEST_FILE
-- REQUEST_FILE holds `signature<TAB>form body` lines (bench/requests.py);
-- each thread sends them in turn, so the load spreads over every number.
-- done() prints a RESULT line with p99.9, which wrk's own report lacks.

local signed = {}
local next_index = 0

function init(args)
  local path = args[1]
  if path == nil then
    error("wrk-signed.lua: pass the request file after --")
  end
  for line in io.lines(path) do
    local sig, body = line:match("^([^\t]+)\t(.*)$")
    if sig ~= nil then
      signed[#signed + 1] = wrk.format("POST", wrk.path, {
        ["Content-Type"] = "application/x-www-form-urlencoded",
        ["X-Twilio-Signature"] = sig,
      }, body)
    end
  end
  if #signed == 0 then
    error("wrk-signed.lua: no request in " .. path)
  end
end

function request()
  next_index = next_index % #signed + 1
  return signed[next_index]
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "RESULT answered=%d rps=%.0f p50_us=%d p99_us=%d p999_us=%d max_us=%d non2xx=%d errors=%d\n",
    summary.requests, summary.requests / seconds,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max,
    e.status, e.connect + e.read + e.write + e.timeout))
end
