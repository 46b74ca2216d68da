export * from './error-metrics';
export * from './evaluate';
