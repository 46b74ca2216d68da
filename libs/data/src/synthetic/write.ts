// The synthetic-data writers, one module per layout: write-kaggle.ts (Netflix Kaggle CSV) and
// write-prize.ts (the original Netflix Prize files); write-common.ts holds what they share.
export { csvField, isoDate, WritableRatings, WrittenFiles } from './write-common';
export * from './write-kaggle';
export * from './write-prize';
