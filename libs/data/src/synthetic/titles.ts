import { Random } from '@recsys/core';

/**
 * Names of the planted genres, in order of decreasing share of the catalog (genre g gets
 * movies with weight 1/(g + 2), so Drama is the largest). Beyond this list genres are named
 * `Genre <n>`.
 */
export const SYNTHETIC_GENRE_NAMES: readonly string[] = Object.freeze([
  'Drama',
  'Comedy',
  'Action',
  'Thriller',
  'Romance',
  'Documentary',
  'Horror',
  'Animation',
  'Science Fiction',
  'Crime',
  'Family',
  'Western',
  'Musical',
  'War',
  'Fantasy',
  'Mystery',
  'Sports',
  'Anime',
]);

/** Genre names for `count` planted genres. */
export function syntheticGenreNames(count: number): string[] {
  const names: string[] = [];
  for (let g = 0; g < count; g++) names.push(g < SYNTHETIC_GENRE_NAMES.length ? SYNTHETIC_GENRE_NAMES[g] : `Genre ${g + 1}`);
  return names;
}

// Every word is ISO-8859-1 encodable, because the Netflix Prize `movie_titles.csv` is latin1.
const ADJECTIVES = [
  'Silent', 'Midnight', 'Broken', 'Golden', 'Last', 'Lost', 'Hidden', 'Dark', 'Crimson', 'Wild',
  'Frozen', 'Secret', 'Burning', 'Forgotten', 'Endless', 'Quiet', 'Savage', 'Little', 'Distant', 'Electric',
  'Bitter', 'Restless', 'Eternal', 'Hollow', 'Iron', 'Scarlet', 'Lonely', 'Final', 'Perfect', 'Dangerous',
];
const NOUNS = [
  'River', 'Express', 'Garden', 'Kingdom', 'Road', 'Storm', 'Heart', 'City', 'Shadow', 'Summer',
  'Island', 'Letter', 'Mountain', 'Witness', 'Harbor', 'Empire', 'Promise', 'Stranger', 'Dream', 'Season',
  'Bridge', 'Horizon', 'Affair', 'Journey', 'Frontier', 'Mirror', 'Night', 'Legacy', 'Station', 'Hunter',
];
const NAMES = ['Charlie', 'Maria', 'Jack', 'Lucy', 'Frank', 'Grace', 'Sam', 'Rosa', 'Henry', 'Annie', 'Max', 'Nora'];
const PLACES = ['Paris', 'Chicago', 'Tokyo', 'Berlin', 'Havana', 'Memphis', 'Dublin', 'Casablanca', 'Brooklyn', 'Texas'];
/** Titles with letters outside ASCII (é, ñ, ö, ü, ë), all within ISO-8859-1. */
const ACCENTED = ['Café', 'Déjà Vu', 'Señor', 'Amélie', 'Noël', 'Fiancée', 'Müller', 'Björk', 'Pokémon', 'Señorita'];
const SEQUELS = [' II', ' III', ': Part 2', ' Returns'];

function pick<T>(rng: Random, words: readonly T[]): T {
  return words[rng.int(words.length)];
}

/** A title with a comma in it (the Prize titles file does not quote them). */
function commaTitle(rng: Random): string {
  switch (rng.int(3)) {
    case 0:
      return `Goodbye, ${pick(rng, NAMES)}`;
    case 1:
      return `${pick(rng, NOUNS)}, ${pick(rng, NOUNS)} and ${pick(rng, NOUNS)}`;
    default:
      return `${pick(rng, NAMES)}, ${pick(rng, NAMES)} & ${pick(rng, NAMES)}`;
  }
}

function accentedTitle(rng: Random): string {
  return rng.int(2) === 0 ? `${pick(rng, ACCENTED)} ${pick(rng, NOUNS)}` : `The ${pick(rng, ADJECTIVES)} ${pick(rng, ACCENTED)}`;
}

/** A title with double quotes in it (the Kaggle titles file quotes and doubles them). */
function quotedTitle(rng: Random): string {
  return `The "${pick(rng, ADJECTIVES)}" ${pick(rng, NOUNS)}`;
}

function plainTitle(rng: Random): string {
  switch (rng.int(8)) {
    case 0:
    case 1:
      return `The ${pick(rng, ADJECTIVES)} ${pick(rng, NOUNS)}`;
    case 2:
      return `${pick(rng, NOUNS)} of the ${pick(rng, NOUNS)}`;
    case 3:
      return `${pick(rng, ADJECTIVES)} ${pick(rng, NOUNS)}${pick(rng, SEQUELS)}`;
    case 4:
      return `${pick(rng, NAMES)}'s ${pick(rng, NOUNS)}`;
    case 5:
      return `${pick(rng, PLACES)} ${pick(rng, NOUNS)}`;
    case 6:
      return `${pick(rng, NOUNS)}: Season ${1 + rng.int(7)}`;
    default:
      return `${pick(rng, ADJECTIVES)} ${pick(rng, NOUNS)}`;
  }
}

/**
 * `count` plausible movie titles ("The Silent River", "Midnight Express II", "Goodbye, Lucy",
 * "Café Storm", …), deterministic for the generator's state. About 3 % hold a comma, 3 % a
 * non-ASCII latin1 letter and 1 % double quotes; when `count` ≥ 3 at least one title of each kind
 * is present, so writers and loaders always meet these quirks. Titles may repeat (as on Netflix).
 */
export function generateTitles(rng: Random, count: number): string[] {
  const titles: string[] = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const u = rng.next();
    titles[i] = u < 0.03 ? commaTitle(rng) : u < 0.06 ? accentedTitle(rng) : u < 0.07 ? quotedTitle(rng) : plainTitle(rng);
  }
  if (count >= 3) {
    // Guarantee each quirk, overwriting titles that have none (so no quirk overwrites another).
    const isPlain = (t: string): boolean => !t.includes(',') && !t.includes('"') && !/[^\x20-\x7e]/.test(t);
    const plain = rng.shuffle(Int32Array.from(titles.keys()).filter((i) => isPlain(titles[i])));
    let next = 0;
    if (next < plain.length && !titles.some((t) => t.includes(','))) titles[plain[next++]] = commaTitle(rng);
    if (next < plain.length && !titles.some((t) => /[^\x20-\x7e]/.test(t))) titles[plain[next++]] = accentedTitle(rng);
    if (next < plain.length && !titles.some((t) => t.includes('"'))) titles[plain[next++]] = quotedTitle(rng);
  }
  return titles;
}
