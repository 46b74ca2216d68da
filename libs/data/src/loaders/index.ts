export { DATA_FORMATS } from './options';
export type { ColumnRole, DataFormat, LoadOptions } from './options';
export { detectSeparator, parseColumns } from './delimited';
export { detectFormat } from './detect';
export { loadDataset, loadOptionsConflict, loadRatingsFile } from './load';
export { fileSplit } from './file-split';
export { readNetflixKaggleTitles } from './netflix-kaggle';
export { readNetflixPrizeTitles, readProbe, readQualifying } from './netflix-prize';
export { readMovieLensTitles } from './movielens';
