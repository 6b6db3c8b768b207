-- wrk script for the benchmark (bench/wrk.py): cycles a list of paths, counts responses whose
-- status is not the expected one, and prints one JSON line of figures when the run ends.
--
--   wrk -t2 -c8 -d10s --latency -s bench/wrk_paths.lua http://127.0.0.1:PORT -- PATHS_FILE STATUS
--
-- PATHS_FILE holds one path per line (one line for a page with a fixed URL); STATUS is the status
-- every response must have (200, or 304 for the conditional feed GET). Headers given with -H
-- (the session cookie, If-None-Match) go with every request.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("id", #threads)
end

function init(args)
   paths = {}
   for line in io.lines(args[1]) do
      if line ~= "" then
         table.insert(paths, line)
      end
   end
   expected = tonumber(args[2] or "200")
   unexpected = 0
   first_unexpected = 0
   -- Each thread starts at another place in the list, so the threads do not ask in lockstep.
   counter = math.floor((id - 1) * #paths / 2)
end

function request()
   counter = counter + 1
   return wrk.format(nil, paths[(counter % #paths) + 1])
end

function response(status, headers, body)
   if status ~= expected then
      unexpected = unexpected + 1
      if first_unexpected == 0 then
         first_unexpected = status
      end
   end
end

function done(summary, latency, requests)
   local bad, first = 0, 0
   for _, thread in ipairs(threads) do
      bad = bad + thread:get("unexpected")
      local f = thread:get("first_unexpected")
      if first == 0 and f ~= 0 then
         first = f
      end
   end
   local e = summary.errors
   local ms = function(us) return us / 1000.0 end
   io.write(string.format(
      'WRKJSON {"requests": %d, "duration_us": %d, "bytes": %d, "unexpected_status": %d, "first_unexpected": %d, '
      .. '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d, '
      .. '"p50_ms": %.2f, "p90_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f, "mean_ms": %.2f}\n',
      summary.requests, summary.duration, summary.bytes, bad, first,
      e.connect, e.read, e.write, e.status, e.timeout,
      ms(latency:percentile(50)), ms(latency:percentile(90)), ms(latency:percentile(95)),
      ms(latency:percentile(99)), ms(latency.max), ms(latency.mean)))
end
