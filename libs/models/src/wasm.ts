// The few WebAssembly JS-API types the kernels use. The workspace compiles against lib ES2022
// without DOM, which does not declare `WebAssembly`; Node provides it at run time.

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
