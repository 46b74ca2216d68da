// The few WebAssembly JS-API types the kernels use. The workspace compiles against lib ES2022
// without DOM, which does not declare `WebAssembly`; Node provides it at run time.
import { existsSync, readFileSync } from 'node:fs';

/** A compiled module (opaque here; it can be posted to worker threads). */
export interface WasmModule {
  readonly __wasmModule?: never;
}

/** A linear memory; shared when created with `shared: true` (buffer is then a SharedArrayBuffer). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => { readonly exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
}

/** Node's global `WebAssembly` object, typed. */
export const wasmApi: WasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const modules = new Map<string, WasmModule>();

/**
 * The compiled module at `path` (compiled once per thread and path). Throws, naming the file and
 * the command that builds it, when the build has not produced it.
 */
export function compiledWasmModule(path: string, what: string): WasmModule {
  let module = modules.get(path);
  if (module === undefined) {
    if (!existsSync(path)) throw new Error(`${what} ${path} is missing: build it with \`node tools/build-wasm.js\` (part of \`npm run build\`)`);
    module = new wasmApi.Module(readFileSync(path));
    modules.set(path, module);
  }
  return module;
}
