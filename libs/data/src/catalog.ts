/** One movie of the catalog. */
export interface Movie {
  readonly id: number;
  readonly title: string;
  /** Year of release; null when unknown (Netflix `NULL`, MovieLens without a year). */
  readonly year: number | null;
  /** Genres when the source has them (MovieLens); empty otherwise. */
  readonly genres: readonly string[];
}

/**
 * Titles, years and genres by external movie id. Movies may be rated without being in the
 * catalog (the files allow it): they are then titled `Movie <id>`.
 */
export class MovieCatalog {
  private readonly byId = new Map<number, Movie>();

  constructor(movies: Iterable<Movie> = []) {
    for (const m of movies) this.byId.set(m.id, m);
  }

  /** Add or replace a movie. */
  set(movie: Movie): void {
    this.byId.set(movie.id, movie);
  }

  /** Number of movies listed in the catalog (not counting fallbacks). */
  get size(): number {
    return this.byId.size;
  }

  /** Whether the catalog lists the movie. */
  has(id: number): boolean {
    return this.byId.has(id);
  }

  /** The catalog entry, or a fallback `Movie <id>` with unknown year and no genres. */
  get(id: number): Movie {
    return this.byId.get(id) ?? { id, title: `Movie ${id}`, year: null, genres: [] };
  }

  /** Listed movies in ascending id order. */
  list(): Movie[] {
    return [...this.byId.values()].sort((a, b) => a.id - b.id);
  }
}
