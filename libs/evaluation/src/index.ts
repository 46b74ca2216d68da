export * from './error-metrics';
export * from './evaluate';
export * from './ranking-metrics';
export * from './popular-model';
export * from './cross-validate';
export * from './search';
