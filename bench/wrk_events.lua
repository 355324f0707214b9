-- wrk script: POST /api/events with `batch` fresh events per request, every id unique.
--
-- Arguments (after `--`): nonce, event template, batch size, resources, customers.
-- The template and the id formula are the ones in workload.py, so wrk and the Python
-- clients send the same events. At the end one line starting "WRK_RESULT " carries the
-- figures as JSON for the Python side.

local threads = {}
local next_thread = 0

function setup(thread)
  thread:set("worker", next_thread)
  next_thread = next_thread + 1
  table.insert(threads, thread)
end

function init(args)
  nonce = args[1]
  template = args[2]
  batch = tonumber(args[3])
  resources = tonumber(args[4])
  customers = tonumber(args[5])
  sent = 0
  headers = { ["Content-Type"] = "application/json" }
end

local function event(n)
  local id = string.format("%s-%04x-7000-8000-%012x", nonce, worker, n)
  local resource = (n * 7919 + worker) % resources
  return string.format(template, id, resource, resource, resource % customers, n % 1000)
end

function request()
  local events = {}
  for i = 1, batch do
    events[i] = event(sent + i - 1)
  end
  sent = sent + batch
  return wrk.format("POST", nil, headers, "[" .. table.concat(events, ",") .. "]")
end

function done(summary, latency, requests)
  local sent_events = 0
  for _, thread in ipairs(threads) do
    sent_events = sent_events + thread:get("sent")
  end
  local errors = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"sent_events":%d,"connect":%d,"read":%d,'
    .. '"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, sent_events, errors.connect, errors.read,
    errors.write, errors.status, errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
