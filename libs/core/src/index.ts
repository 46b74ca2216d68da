export * from './random';
export * from './workers';
