export * from './trainer';
export * from './score';
export type { SgdKernel } from './kernel';
export { referenceKernel, wasmKernel, sgdWasmModule, SGD_WASM_PATH } from './kernel';
