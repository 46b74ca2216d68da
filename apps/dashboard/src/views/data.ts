import { DashDataDocument } from '@recsys/client';
import { renderChart } from '@recsys/charts';
import { client } from '../api';
import { fmt, h, replace, table } from '../dom';
import { degreeSpec, histogramSpec, monthSpec } from '../specs';
import type { ViewContext } from './view';

/** Counts, the rating histogram, the long tails (log–log) and ratings per month of the training data. */
export async function dataView(ctx: ViewContext): Promise<void> {
  const { dataSummary: d } = await client().request(DashDataDocument, {});
  if (ctx.stale()) return;
  const scale = `${d.scaleMin}..${d.scaleMax} in steps of ${d.scaleStep}${d.implicit ? ' (implicit feedback)' : ''}`;
  replace(
    ctx.main,
    h('h1', {}, 'Data'),
    h('p', {}, 'The training data the server started on (ratings given through the API are not in it).'),
    table(['users', 'movies', 'ratings', 'mean rating', 'scale'], [[fmt(d.users), fmt(d.movies), fmt(d.ratings), fmt(d.meanRating, 3), scale]], 'Counts'),
    h(
      'div',
      { class: 'grid' },
      renderChart(histogramSpec('Rating histogram', d.ratingHistogram, 'Ratings per value of the scale.')),
      renderChart(degreeSpec('Ratings per user', d.ratingsPerUser, 'users')),
      renderChart(degreeSpec('Ratings per movie', d.ratingsPerMovie, 'movies')),
      d.ratingsByMonth.length > 0 ? renderChart(monthSpec(d.ratingsByMonth)) : h('p', { class: 'note' }, 'The data has no dates: no ratings per month.'),
    ),
  );
}
