// Preloaded into a benchmark's child with `node --require tools/dist/bench/peak-rss-hook.js`:
// when the process exits, it writes the high-water mark of its resident memory (worker threads
// included: they share the process) as JSON to the file named by RECSYS_PEAK_RSS_FILE. It lets a
// benchmark measure a command it does not control (the CLI, the API server) without /usr/bin/time.
import { writeFileSync } from 'node:fs';

const file = process.env.RECSYS_PEAK_RSS_FILE;
if (file) {
  process.on('exit', () => {
    // maxRSS is in kibibytes.
    writeFileSync(file, JSON.stringify({ peakRss: process.resourceUsage().maxRSS * 1024 }));
  });
}
