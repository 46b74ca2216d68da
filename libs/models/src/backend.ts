import { existsSync } from 'node:fs';
import { relative } from 'node:path';

/**
 * Where a training kernel runs: `wasm`, the AssemblyScript SIMD module that `npm run build`
 * compiles (tools/build-wasm.js) into libs/models/wasm/; `js`, its plain TypeScript
 * counterpart; `auto` (the default), `wasm` when the compiled module exists, else `js`.
 * Asking for `wasm` when the module is missing is an error that names the file and the command
 * that builds it.
 */
export type Backend = 'auto' | 'wasm' | 'js';

export const BACKENDS: readonly Backend[] = ['auto', 'wasm', 'js'];

/** The `backend` parameter of `kind`, checked (undefined: `auto`). */
export function backendParam(kind: string, value: unknown): Backend {
  if (value === undefined) return 'auto';
  if (!BACKENDS.includes(value as Backend)) throw new RangeError(`${kind}: backend must be one of ${BACKENDS.join(', ')}, got ${JSON.stringify(value)}`);
  return value as Backend;
}

const writeLine = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

let logger: (line: string) => void = writeLine;
const logged = new Set<string>();

/**
 * Where the backend choices go: each distinct choice is reported once per process (per thread:
 * worker threads load their own copy) as one line, by default on stderr. `null` restores the
 * default; `() => {}` silences it.
 */
export function setBackendLogger(log: ((line: string) => void) | null): void {
  logger = log ?? writeLine;
  logged.clear();
}

/** Reports a backend choice, once per distinct line. */
export function logBackend(line: string): void {
  if (logged.has(line)) return;
  logged.add(line);
  logger(line);
}

function shortPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}

/**
 * Resolves `requested` for the kernel compiled to `wasmPath`: whether the WebAssembly module runs,
 * and why, in words. Throws for `wasm` when the module is missing.
 */
export function resolveBackend(kernel: string, requested: Backend, wasmPath: string): { wasm: boolean; reason: string } {
  if (requested === 'js') return { wasm: false, reason: "backend 'js' requested" };
  const built = existsSync(wasmPath);
  if (requested === 'wasm') {
    if (!built) {
      throw new Error(`backend 'wasm': the ${kernel} kernel ${wasmPath} is missing; build it with \`node tools/build-wasm.js\` (part of \`npm run build\`)`);
    }
    return { wasm: true, reason: "backend 'wasm' requested" };
  }
  return built
    ? { wasm: true, reason: `auto: ${shortPath(wasmPath)} is built` }
    : { wasm: false, reason: `auto: ${shortPath(wasmPath)} is not built (\`node tools/build-wasm.js\` builds it)` };
}
