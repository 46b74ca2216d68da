export * from './baselines';
export * from './similarity';
export * from './neighbour-index';
export * from './similarity-pool';
