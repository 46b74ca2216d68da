#!/usr/bin/env node
// Compiles the AssemblyScript kernels of libs/models/assembly and libs/similarity/assembly to
// WebAssembly in each lib's wasm/ folder (gitignored build output). Run by the root `build` script before `tsc -b`:
//   node tools/build-wasm.js [--force]
// The module imports its memory (`env.memory`), declared shared so that worker threads can run
// the SGD kernel on one WebAssembly.Memory; the host sizes that memory (the module only states
// 1 … 65536 pages). No data segments and the stub runtime: the kernels allocate nothing.
'use strict';
const { execFileSync } = require('node:child_process');
const { mkdirSync, readdirSync, statSync, existsSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const asc = require.resolve('assemblyscript/bin/asc.js', { paths: [root] });
const kernels = [
  { source: 'libs/models/assembly/sgd.ts', output: 'libs/models/wasm/sgd.wasm' },
  { source: 'libs/models/assembly/als.ts', output: 'libs/models/wasm/als.wasm' },
  { source: 'libs/models/assembly/svdpp.ts', output: 'libs/models/wasm/svdpp.wasm' },
  { source: 'libs/models/assembly/ease.ts', output: 'libs/models/wasm/ease.wasm' },
  { source: 'libs/models/assembly/ials.ts', output: 'libs/models/wasm/ials.wasm' },
  { source: 'libs/models/assembly/bpr.ts', output: 'libs/models/wasm/bpr.wasm' },
  { source: 'libs/models/assembly/score.ts', output: 'libs/models/wasm/score.wasm' },
  { source: 'libs/similarity/assembly/similarity.ts', output: 'libs/similarity/wasm/similarity.wasm' },
];

// Every kernel may import the shared helpers of its folder (e.g. dot.ts), so any source there counts.
const newestSourceIn = (assembly) =>
  Math.max(statSync(__filename).mtimeMs, ...readdirSync(assembly).filter((f) => f.endsWith('.ts')).map((f) => statSync(path.join(assembly, f)).mtimeMs));

for (const { source, output } of kernels) {
  const newestSource = newestSourceIn(path.dirname(path.join(root, source)));
  const out = path.join(root, output);
  // Up to date when newer than every source and than this script (whose flags it was built with).
  const upToDate = existsSync(out) && statSync(out).mtimeMs >= newestSource;
  if (upToDate && !process.argv.includes('--force')) continue;
  mkdirSync(path.dirname(out), { recursive: true });
  const args = [
    asc,
    path.join(root, source),
    '--outFile', out,
    '-O3',
    '--runtime', 'stub',
    '--enable', 'simd',
    '--enable', 'threads',
    '--importMemory',
    '--sharedMemory',
    '--initialMemory', '1',
    '--maximumMemory', '65536',
    '--noAssert',
  ];
  execFileSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  process.stderr.write(`build-wasm: ${source} -> ${output}\n`);
}
