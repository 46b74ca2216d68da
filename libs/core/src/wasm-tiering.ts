import { setFlagsFromString } from 'node:v8';

/**
 * Asks V8 to compile every WebAssembly module with its optimizing compiler at once, in the
 * background right after the quick baseline (Liftoff) compile, instead of function by function
 * once a function has used up V8's hotness budget (`--no-wasm-dynamic-tiering`). With the budget,
 * a kernel call that runs for seconds runs baseline code to its end the first time it is made,
 * because a running WebAssembly call never switches to the optimized code: measured on the 100M
 * Prize-shaped snapshot, 100 factors, 2 threads, the first blocked ALS movies half step took
 * 5.5 s (10.8 CPU-s) and the next 3.9 s (7.6 CPU-s); with this flag the first took 4.0–4.3 s.
 *
 * The flag is process-wide (worker threads share it) and only affects modules compiled after the
 * call, so entry points call it before any kernel compiles (the CLI, the API server and the
 * benchmarks' children); the libraries leave V8's flags alone. Idempotent.
 */
export function compileWasmOptimizedEagerly(): void {
  setFlagsFromString('--no-wasm-dynamic-tiering');
}
