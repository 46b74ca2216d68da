export * from './titles';
export * from './generate';
export * from './write';
