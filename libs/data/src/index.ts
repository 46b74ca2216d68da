export * from './errors';
export * from './rating-scale';
export * from './id-index';
export * from './rating-matrix';
export * from './catalog';
export * from './dataset';
export * from './random';
export * from './worker-script';
