import { DashMovieDocument, DashMovieSearchDocument } from '@recsys/client';
import { renderChart } from '@recsys/charts';
import { client } from '../api';
import { errorBox, fmt, h, movieName, replace, routeId, routeText, table } from '../dom';
import { histogramSpec, neighbourhoodSpec, similarSpec } from '../specs';
import type { ViewContext } from './view';

/** The similarity metrics shown, with the field of DashMovie that holds each list. */
export const METRICS = [
  { name: 'JACCARD', field: 'jaccard' },
  { name: 'COSINE', field: 'cosine' },
  { name: 'PEARSON', field: 'pearson' },
  { name: 'PEARSON_BASELINE', field: 'pearsonBaseline' },
  { name: 'MODEL', field: 'model' },
] as const;

/** Most similar movies per metric. */
export const SIMILAR_N = 10;

/** A movie: title, year, its rating histogram, most similar movies per metric, and its neighbourhood. */
export async function movieView(ctx: ViewContext): Promise<void> {
  const id = routeId('movie', ctx.arg);
  const { movie } = await client().request(DashMovieDocument, { id, n: SIMILAR_N });
  if (ctx.stale()) return;
  replace(
    ctx.main,
    h('h1', {}, movieName(movie)),
    h('p', {}, `Movie ${movie.id} · ${fmt(movie.ratingCount)} ratings · mean ${fmt(movie.meanRating, 2)}${movie.genres.length ? ` · ${movie.genres.join(', ')}` : ''}`),
    h(
      'div',
      { class: 'grid' },
      renderChart(histogramSpec('Its ratings', movie.ratingHistogram, 'Ratings of this movie in the training data per value of the scale.')),
      METRICS.flatMap(({ name, field }) => [
        movie[field].length > 0 ? renderChart(similarSpec(name, movie[field])) : h('p', { class: 'note' }, `No similar movies by ${name}.`),
        // The graph beside the first metric's bars: the same neighbours, drawn around the movie.
        field === 'jaccard' && movie.jaccard.length > 0 ? renderChart(neighbourhoodSpec(movie, 'JACCARD', movie.jaccard)) : null,
      ]),
    ),
  );
}

/** Movies whose title contains the search text, each a link to its view. */
export async function searchView(ctx: ViewContext): Promise<void> {
  const search = routeText('search', ctx.arg).trim();
  if (search === '') {
    replace(ctx.main, h('h1', {}, 'Movie search'), errorBox('no search text: type part of a title (or an id) in the Movie field above'));
    return;
  }
  const { movies } = await client().request(DashMovieSearchDocument, { search, first: 50 });
  if (ctx.stale()) return;
  replace(
    ctx.main,
    h('h1', {}, `Movies matching “${search}”`),
    h('p', {}, `${fmt(movies.totalCount)} found${movies.totalCount > movies.edges.length ? `, the first ${movies.edges.length} shown` : ''}.`),
    table(
      ['movie', 'id', 'ratings'],
      movies.edges.map(({ node }) => [h('a', { href: `#/movie/${node.id}` }, movieName(node)), node.id, fmt(node.ratingCount)]),
    ),
  );
}
