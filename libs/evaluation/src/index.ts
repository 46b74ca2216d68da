export * from './error-metrics';
export * from './evaluate';
export * from './ranking-metrics';
export * from './search';
export * from './guard';
export * from './divergence';
export * from './ranking-guard';
