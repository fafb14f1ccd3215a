-- wrk reports the 50/75/90/99th latency percentiles; the benchmark also wants the 95th.
done = function(summary, latency, requests)
  io.write(string.format("p95_us %d\n", latency:percentile(95)))
end
