-- wrk script for playbooks/loadtest.yml: search requests through the edge.
-- LOADTEST_MODE=miss (default): every request is a new query, so the edge misses and the
-- instances do the work; LOADTEST_MODE=hit: a few fixed queries, served from the edge's cache.
-- At the end it prints one line "LOADTEST {json}" that loadtest.py (beside this file) reads.
local threads = {}
local words = {"sea", "forest", "cat", "city", "night", "sun", "snow", "flower", "water", "path"}

function setup(thread)
  thread:set("number", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  mode = os.getenv("LOADTEST_MODE") or "miss"
  sent, hits, misses, other = 0, 0, 0, 0
  math.randomseed(os.time() + number)
end

function request()
  sent = sent + 1
  local word = words[(sent % #words) + 1]
  if mode == "hit" then
    return wrk.format("GET", "/api/search?q=" .. word)
  end
  return wrk.format("GET", "/api/search?q=" .. word .. "&_=" .. number .. "-" .. sent .. "-" .. math.random(1000000000))
end

function response(status, headers, body)
  local cache = headers["X-Cache"] or headers["x-cache"] or ""
  if cache:find("^Hit") then
    hits = hits + 1
  elseif cache:find("^Miss") then
    misses = misses + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local h, m, o = 0, 0, 0
  for _, thread in ipairs(threads) do
    h = h + thread:get("hits")
    m = m + thread:get("misses")
    o = o + thread:get("other")
  end
  local errors = summary.errors
  io.write(string.format(
    'LOADTEST {"requests":%d,"duration_us":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d},"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f},' ..
    '"cache":{"hits":%d,"misses":%d,"other":%d}}\n',
    summary.requests, summary.duration, summary.bytes, errors.connect, errors.read, errors.write,
    errors.status, errors.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, h, m, o))
end
