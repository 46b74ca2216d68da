/**
 * Preloaded into the API server by `api-bench --scenario similar-burst` (`node -r`): the server's
 * event-loop delay histogram (perf_hooks, 5 ms resolution). On SIGUSR2 it writes what it saw since
 * the last signal to the JSON file `RECSYS_BENCH_LAG_FILE` ({ seq, maxMs, meanMs, p99Ms, count })
 * and starts over. Without that variable it does nothing.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const file = process.env.RECSYS_BENCH_LAG_FILE;
if (file) {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  let seq = 0;
  process.on('SIGUSR2', () => {
    seq++;
    const reading = { seq, maxMs: histogram.max / 1e6, meanMs: histogram.mean / 1e6, p99Ms: histogram.percentile(99) / 1e6, count: histogram.count };
    writeFileSync(`${file}.tmp`, JSON.stringify(reading));
    renameSync(`${file}.tmp`, file);
    histogram.reset();
  });
}
