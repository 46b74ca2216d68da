#!/usr/bin/env node
// Bundles the browser code with esbuild (after `tsc -b` has type-checked it): the dashboard page
// (apps/dashboard) and the script inlined into the CLI's --report HTML files (libs/charts).
// esbuild only strips types here; the browser code uses no decorators, so it needs no metadata.
//   node tools/build-web.js [--force]
'use strict';
const { existsSync, statSync, readdirSync, mkdirSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const bundles = [
  { entry: 'apps/dashboard/src/main.ts', outfile: 'apps/dashboard/dist/web/dashboard.js', watch: ['apps/dashboard/src', 'libs/charts/src', 'libs/client/src'] },
  { entry: 'libs/charts/src/report-entry.ts', outfile: 'libs/charts/dist/web/report.js', watch: ['libs/charts/src'] },
];

const newest = (dir) => {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
};

/** esbuild's options for every browser bundle (also tools/bench/chart-bench.ts's). */
const BROWSER_BUILD = { bundle: true, minify: true, format: 'iife', target: 'es2022', platform: 'browser', legalComments: 'none', sourcemap: false };
module.exports = { BROWSER_BUILD };
if (require.main !== module) return;

const force = process.argv.includes('--force');
const esbuild = require('esbuild');
for (const b of bundles) {
  const entry = path.join(root, b.entry);
  if (!existsSync(entry)) continue;
  const out = path.join(root, b.outfile);
  const sourceTime = Math.max(statSync(__filename).mtimeMs, ...b.watch.map((d) => newest(path.join(root, d))));
  if (!force && existsSync(out) && statSync(out).mtimeMs >= sourceTime) continue;
  mkdirSync(path.dirname(out), { recursive: true });
  esbuild.buildSync({
    entryPoints: [entry],
    outfile: out,
    ...BROWSER_BUILD,
    // @recsys/* to the libs' sources, as in the tests.
    tsconfig: path.join(root, 'tsconfig.base.json'),
    logLevel: 'warning',
  });
}
