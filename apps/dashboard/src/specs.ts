import type { BarChartSpec, GraphChartSpec, LineChartSpec, ScatterChartSpec } from '@recsys/charts';
import type { DashDataQuery } from '@recsys/client';
import { movieName } from './dom';

/** The ChartSpecs of the views, built from the API's answers (plain functions of the data). */

type Summary = DashDataQuery['dataSummary'];
export type ValueCount = Summary['ratingHistogram'][number];
export type DegreeCount = Summary['ratingsPerUser'][number];

/** Ratings per value of the scale: one bar per value (zeros included). */
export function histogramSpec(title: string, histogram: ValueCount[], caption?: string): BarChartSpec {
  return {
    type: 'bar',
    title,
    caption,
    xLabel: 'rating',
    yLabel: 'ratings',
    bars: histogram.map((v) => ({ category: String(v.value), value: v.count })),
  };
}

/** The long tail on log–log axes: x = k ratings, y = how many users (or movies) have exactly k. */
export function degreeSpec(title: string, rows: DegreeCount[], who: 'users' | 'movies'): ScatterChartSpec {
  return {
    type: 'scatter',
    title,
    caption: `Each dot: how many ${who} have exactly k ratings (log–log axes).`,
    xType: 'log',
    yType: 'log',
    xLabel: 'k ratings',
    yLabel: who,
    points: rows.map((r) => ({ x: r.ratings, y: r.count })),
  };
}

export function monthSpec(rows: Summary['ratingsByMonth']): LineChartSpec {
  return {
    type: 'line',
    title: 'Ratings per month',
    xType: 'time',
    xLabel: 'month',
    yLabel: 'ratings',
    series: [{ name: 'ratings', points: rows.map((r) => ({ x: r.month, y: r.count })) }],
  };
}

export interface ModelRow {
  id: string;
  kind: string;
  role: string;
  active: boolean;
  metrics: { heldOutRmse: number | null; heldOutMae: number | null; heldOutNdcg: number | null };
}

/** A model's label in charts: its id (which starts with its kind), marked when active. */
export function modelLabel(m: { id: string }, active: boolean): string {
  return `${m.id}${active ? ' (active)' : ''}`;
}

/**
 * Held-out metrics side by side, one group of bars per model (the given metrics that are known),
 * the active model emphasised.
 */
export function metricsSpec(title: string, models: ModelRow[], metrics: Array<{ key: keyof ModelRow['metrics']; name: string }>, caption: string): BarChartSpec {
  const bars: BarChartSpec['bars'] = [];
  for (const m of models) {
    for (const { key, name } of metrics) {
      const value = m.metrics[key];
      if (value === null || value === undefined) continue;
      bars.push({ category: modelLabel(m, m.active), group: name, value, highlight: m.active || undefined });
    }
  }
  return { type: 'bar', title, caption, yLabel: 'held-out value', bars };
}

export interface EpochRow {
  epoch: number;
  epochs: number;
  seconds: number;
  trainRmse: number | null;
  validationRmse: number | null;
}

/** Training and validation RMSE per epoch (the learning curve); series without values are left out. */
export function curveSpec(title: string, epochs: EpochRow[], caption?: string): LineChartSpec {
  const series: LineChartSpec['series'] = [];
  const train = epochs.filter((e) => e.trainRmse !== null && Number.isFinite(e.trainRmse)).map((e) => ({ x: e.epoch, y: e.trainRmse! }));
  const validation = epochs.filter((e) => e.validationRmse !== null && Number.isFinite(e.validationRmse)).map((e) => ({ x: e.epoch, y: e.validationRmse! }));
  if (train.length > 0) series.push({ name: 'training RMSE', points: train });
  if (validation.length > 0) series.push({ name: 'validation RMSE', points: validation, dashed: true });
  return { type: 'line', title, caption, xLabel: 'epoch', yLabel: 'RMSE', series };
}

/** Kinds whose EpochProgress.seconds count from the start of the fit (ials, bpr, ease); the others' are per epoch. */
const CUMULATIVE_SECONDS = new Set(['IALS', 'BPR', 'EASE']);

/**
 * Seconds left: the mean seconds of the finished epochs times the epochs left; null before the
 * first epoch or when the run is over.
 */
export function secondsLeft(kind: string, epochs: EpochRow[], totalEpochs: number | null): number | null {
  if (epochs.length === 0 || totalEpochs === null) return null;
  const last = epochs[epochs.length - 1];
  const left = totalEpochs - last.epoch;
  if (left <= 0) return null;
  const spent = CUMULATIVE_SECONDS.has(kind) ? last.seconds : epochs.reduce((s, e) => s + e.seconds, 0);
  return (spent / last.epoch) * left;
}

export interface SimilarRow {
  movieId: number;
  similarity: number;
  support: number;
  movie: { title: string; year: number | null };
}

/** A bar's category: the movie and its support (common raters); unique within the list. */
function similarCategory(s: SimilarRow, seen: Set<string>): string {
  let c = `${movieName(s.movie)} · ${s.support}`;
  if (seen.has(c)) c += ` · #${s.movieId}`;
  seen.add(c);
  return c;
}

/** The most similar movies as horizontal bars, each a link to its movie view. */
export function similarSpec(metric: string, list: SimilarRow[]): BarChartSpec {
  const seen = new Set<string>();
  return {
    type: 'bar',
    orientation: 'horizontal',
    title: `Most similar by ${metric}`,
    caption: 'Bar: similarity; the number after the title: its common raters (support). Enter or click opens the movie.',
    xLabel: 'similarity',
    signed: list.some((s) => s.similarity < 0),
    bars: list.map((s) => ({ category: similarCategory(s, seen), value: s.similarity, href: `#/movie/${s.movieId}` })),
  };
}

/** The movie in the centre and its neighbours around it; link width = similarity (clipped to 0..1). */
export function neighbourhoodSpec(movie: { id: number; title: string; year: number | null }, metric: string, list: SimilarRow[]): GraphChartSpec {
  return {
    type: 'graph',
    title: `Neighbourhood by ${metric}`,
    caption: 'Link width: similarity; each neighbour opens its own view.',
    nodes: [{ id: String(movie.id), label: movieName(movie) }, ...list.map((s) => ({ id: String(s.movieId), label: movieName(s.movie), href: `#/movie/${s.movieId}` }))],
    links: list.map((s) => ({ source: String(movie.id), target: String(s.movieId), value: Math.min(1, Math.max(0, s.similarity)), label: `similarity ${s.similarity.toFixed(3)}, ${s.support} common raters` })),
  };
}

export interface FactorRow {
  movieId: number;
  rating: number;
  contribution: number;
  movie: { title: string; year: number | null };
}

/** An explanation as signed horizontal bars: each rated movie's contribution, linking to the movie. */
export function contributionSpec(title: string, factors: FactorRow[], caption?: string): BarChartSpec {
  const seen = new Set<string>();
  return {
    type: 'bar',
    orientation: 'horizontal',
    title,
    caption,
    xLabel: 'contribution',
    signed: true,
    bars: factors.map((f) => {
      let category = `${movieName(f.movie)} · rated ${f.rating}`;
      if (seen.has(category)) category += ` · #${f.movieId}`;
      seen.add(category);
      return { category, value: f.contribution, href: `#/movie/${f.movieId}` };
    }),
  };
}
