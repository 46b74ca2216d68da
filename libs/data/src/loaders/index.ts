export { DATA_FORMATS } from './options';
export type { DataFormat, LoadOptions } from './options';
export { detectFormat } from './detect';
export { loadDataset, loadRatingsFile } from './load';
export { fileSplit } from './file-split';
export { readNetflixKaggleTitles } from './netflix-kaggle';
export { readNetflixPrizeTitles, readProbe, readQualifying } from './netflix-prize';
export { readMovieLensTitles } from './movielens';
