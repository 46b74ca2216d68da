export * from './objective';
export * from './line-search';
export * from './lbfgs';
export * from './gradient-check';
export * from './shuffler';
export * from './cholesky';
export * from './conjugate-gradient';
