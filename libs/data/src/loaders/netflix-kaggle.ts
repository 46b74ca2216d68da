import { MovieCatalog } from '../catalog';
import { WHOLE_STARS_1_TO_5 } from '../rating-scale';
import { LoadContext } from './context';
import { headerLayout } from './header';
import { LoadOptions } from './options';
import { FormatPlan, isDirectory, requireEntry, sibling, wholeStars } from './plan';
import { readCsvTitles, TitleColumns } from './titles';

/*
 * Netflix Kaggle layout ("Netflix Movie Rating Dataset"): `Netflix_Dataset_Rating.csv` with a
 * header giving the column order (`User_ID,Rating,Movie_ID` or `User_ID,Movie_ID,Rating`), whole
 * stars 1..5, no dates; titles in `Netflix_Dataset_Movie.csv` (`Movie_ID,Year,Name`).
 */

export const KAGGLE_RATINGS_FILE = 'Netflix_Dataset_Rating.csv';
export const KAGGLE_TITLES_FILE = 'Netflix_Dataset_Movie.csv';

const KAGGLE_TITLE_COLUMNS: TitleColumns = {
  id: ['movieid', 'id'],
  year: ['year', 'yearofrelease'],
  title: ['name', 'title'],
  display: 'Movie_ID, Year and Name',
};

/** Files of a Kaggle folder, or of one Kaggle ratings CSV with its sibling titles file when present. */
export function planNetflixKaggle(path: string): FormatPlan {
  const dir = isDirectory(path);
  const ratings = dir ? requireEntry(path, KAGGLE_RATINGS_FILE, 'netflix-kaggle') : path;
  const titles = sibling(ratings, KAGGLE_TITLES_FILE);
  return {
    format: 'netflix-kaggle',
    ratingFiles: [ratings],
    titleFiles: titles ? [titles] : [],
    layout: (file) => headerLayout(file, WHOLE_STARS_1_TO_5, 'User_ID, Movie_ID and Rating'),
    bytesPerRow: 14,
    readTitles: (ctx) => readCsvTitles(ctx, titles!, KAGGLE_TITLE_COLUMNS),
    scaleOf: wholeStars,
  };
}

/**
 * Titles of `Netflix_Dataset_Movie.csv`: header `Movie_ID,Year,Name` (any column order, names
 * matched case-insensitively); names quoted with `""` escapes when they hold quotes or commas;
 * year `NULL` or empty → null. UTF-8 when valid, else ISO-8859-1.
 */
export async function readNetflixKaggleTitles(path: string, options: LoadOptions = {}): Promise<MovieCatalog> {
  return readCsvTitles(new LoadContext(options, [path]), path, KAGGLE_TITLE_COLUMNS);
}
