export * from './random';
export * from './workers';
export * from './container';
export * from './matrix-arrays';
export * from './wasm-memory';
export * from './wasm-tiering';
