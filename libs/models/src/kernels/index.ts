export * from './sgd-trainer';
export * from './score';
export type { SgdKernel } from './sgd-kernel';
export { referenceKernel, wasmKernel, sgdWasmModule, SGD_WASM_PATH } from './sgd-kernel';
