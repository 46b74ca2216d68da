import { DashMovieSearchDocument, DashPredictionDocument, DashUserDocument, DashUserRatingsDocument, type DashRatingPageFragment } from '@recsys/client';
import { renderChart } from '@recsys/charts';
import { client, errorText } from '../api';
import { errorBox, fmt, h, movieName, replace, routeId, table } from '../dom';
import { contributionSpec } from '../specs';
import type { ViewContext } from './view';

/** Ratings per page of the user's list. */
export const RATINGS_PAGE = 20;
/** Recommendations shown. */
export const RECOMMENDATIONS_N = 10;

/** A user: their ratings (paged), their recommendations with explanations, and a prediction for any movie. */
export async function userView(ctx: ViewContext): Promise<void> {
  const id = routeId('user', ctx.arg);
  const { user } = await client().request(DashUserDocument, { id, first: RATINGS_PAGE, n: RECOMMENDATIONS_N });
  if (ctx.stale()) return;

  const ratingsBox = h('section', { 'aria-labelledby': 'ratings-h' });
  // Cursors of the pages seen, so Previous can go back (the connection pages forward only).
  const cursors: Array<string | null> = [null];
  const showRatings = (page: DashRatingPageFragment, index: number) => {
    const prev = h('button', { type: 'button', disabled: index === 0, onclick: () => void loadPage(index - 1) }, 'Previous');
    const next = h('button', { type: 'button', disabled: !page.pageInfo.hasNextPage, onclick: () => void loadPage(index + 1) }, 'Next');
    cursors[index + 1] = page.pageInfo.endCursor ?? null;
    replace(
      ratingsBox,
      h('h2', { id: 'ratings-h' }, `Ratings (${fmt(page.totalCount)})`),
      table(
        ['movie', 'rating', 'date', 'source'],
        page.edges.map(({ node }) => [h('a', { href: `#/movie/${node.movieId}` }, movieName(node.movie)), node.rating, node.date ?? '–', node.source.toLowerCase()]),
      ),
      h('p', { class: 'pager' }, prev, ` page ${index + 1} of ${Math.max(1, Math.ceil(page.totalCount / RATINGS_PAGE))} `, next),
    );
  };
  const loadPage = async (index: number) => {
    try {
      const r = await client().request(DashUserRatingsDocument, { id, first: RATINGS_PAGE, after: cursors[index] });
      if (!ctx.stale()) showRatings(r.user.ratings, index);
    } catch (error) {
      ratingsBox.append(errorBox(errorText(error)));
    }
  };
  showRatings(user.ratings, 0);

  const recs = user.recommendations;
  const explained = recs.filter((r) => r.explanation.length > 0);
  const recsBox = h(
    'section',
    { 'aria-labelledby': 'recs-h' },
    h('h2', { id: 'recs-h' }, 'Recommendations'),
    table(
      ['rank', 'movie', 'score'],
      recs.map((r) => [r.rank, h('a', { href: `#/movie/${r.movieId}` }, movieName(r.movie)), fmt(r.score, 4)]),
    ),
    explained.length === 0
      ? h('p', { class: 'note' }, 'The active ranking model gives no explanation (popular: its score does not depend on the user).')
      : h(
          'div',
          { class: 'grid' },
          explained.map((r) => renderChart(contributionSpec(`Why #${r.rank}: ${movieName(r.movie)}`, r.explanation, 'The user’s movies that weigh most in this score.'))),
        ),
  );

  replace(
    ctx.main,
    h('h1', {}, `User ${user.id}`),
    h('p', {}, `${fmt(user.ratingCount)} ratings · mean ${fmt(user.meanRating, 2)}`),
    predictionForm(id, ctx),
    recsBox,
    ratingsBox,
  );
}

/** A prediction for any movie: an id, or a title whose matches are offered to pick from. */
function predictionForm(userId: number, ctx: ViewContext): HTMLElement {
  const input = h('input', { id: 'predict-movie', type: 'search', required: true, placeholder: 'title or id', autocomplete: 'off' });
  const out = h('div', { id: 'prediction', 'aria-live': 'polite' });
  const predict = async (movieId: number) => {
    try {
      const { prediction: p } = await client().request(DashPredictionDocument, { userId, movieId, n: 10 });
      if (ctx.stale()) return;
      const what = p.movie ? movieName(p.movie) : `movie ${movieId}`;
      replace(
        out,
        h('p', { class: 'prediction' }, `Predicted rating of ${what}: `, h('strong', {}, fmt(p.rating, 2)), ` (baseline ${fmt(p.baseline, 2)}${p.isFallback ? `; fallback: ${p.fallbackReason}` : ''}; model ${p.modelId})`),
        p.explanation.length > 0 ? renderChart(contributionSpec(`Why ${fmt(p.rating, 2)} for ${what}`, p.explanation, 'The user’s rated movies that weigh most in this prediction.')) : h('p', { class: 'note' }, 'No explanation for a fallback.'),
      );
    } catch (error) {
      replace(out, errorBox(errorText(error)));
    }
  };
  const submit = async (event: Event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (/^\d+$/.test(text)) {
      let movieId: number;
      try {
        movieId = routeId('movie', text);
      } catch (error) {
        replace(out, errorBox(errorText(error)));
        return;
      }
      return predict(movieId);
    }
    try {
      const { movies } = await client().request(DashMovieSearchDocument, { search: text, first: 10 });
      if (ctx.stale()) return;
      if (movies.edges.length === 0) replace(out, errorBox(`no movie title contains “${text}”`));
      else if (movies.edges.length === 1) await predict(movies.edges[0].node.id);
      else
        replace(
          out,
          h('p', {}, `${fmt(movies.totalCount)} titles contain “${text}”; pick one:`),
          h('ul', { class: 'choices' }, movies.edges.map(({ node }) => h('li', {}, h('button', { type: 'button', onclick: () => void predict(node.id) }, `${movieName(node)} · #${node.id}`)))),
        );
    } catch (error) {
      replace(out, errorBox(errorText(error)));
    }
  };
  return h(
    'section',
    { 'aria-labelledby': 'predict-h' },
    h('h2', { id: 'predict-h' }, 'Predict a movie'),
    h('form', { id: 'predict-form', onsubmit: (e: Event) => void submit(e) }, h('label', { for: 'predict-movie' }, 'Movie'), ' ', input, ' ', h('button', { type: 'submit' }, 'Predict')),
    out,
  );
}
