import type { BarChartSpec, ChartSpec, ReportDocument, ReportSection } from '@recsys/charts';
import type { TrainingProgress } from '@recsys/models';
import { meanAndSd, type EvaluationResult, type RankingEvaluation, type RankingSummary, type SearchTrial } from '@recsys/evaluation';

// The ReportDocuments of the commands that take --report, built from the same results the
// command prints: charts as plain JSON (libs/charts draws them in the page) and the figures as tables.

const document = (title: string, command: string, sections: ReportSection[]): ReportDocument => ({ title, command, generatedAt: new Date().toISOString(), sections });

const paramsText = (params: Readonly<Record<string, unknown>>): string =>
  Object.entries(params)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');

/** A finite figure or null (a ranking model's RMSE is NaN: no figure). */
const figure = (x: number | null | undefined): number | null => (x === null || x === undefined || !Number.isFinite(x) ? null : x);

/** `evaluate`: RMSE and MAE per model (mean ± sd over the folds), the best marked, and each fold's figures. */
export function evaluateReport(command: string, description: string, results: EvaluationResult[], failed: Array<{ model: string; error: string }> = []): ReportDocument {
  const spread = results.map((r) => ({ r, rmse: meanAndSd(r.folds.map((f) => f.rmse)), mae: meanAndSd(r.folds.map((f) => f.mae)) }));
  const best = spread.length > 0 ? spread.reduce((a, b) => (b.rmse.mean < a.rmse.mean ? b : a)).r.model : null;
  const many = results.some((r) => r.folds.length > 1);
  const bars: BarChartSpec['bars'] = [];
  for (const { r, rmse, mae } of spread) {
    for (const [metric, m] of [['RMSE', rmse], ['MAE', mae]] as const) {
      bars.push({ category: r.model, group: metric, value: m.mean, ...(Number.isFinite(m.sd) ? { error: m.sd } : {}), highlight: r.model === best });
    }
  }
  const comparison: ReportSection = {
    heading: 'RMSE and MAE per model',
    text: `Evaluation on ${description}.${best ? ` Lowest mean RMSE: ${best} (outlined).` : ''}${many ? ' Bars are means over the folds; the black rules are ± one standard deviation (n − 1).' : ''}`,
    charts: [{ type: 'bar', title: 'Held-out error per model (lower is better)', caption: many ? 'mean ± sd over the folds' : 'one split', yLabel: 'error (stars)', bars }],
    table: {
      columns: ['model', 'parameters', 'RMSE mean', 'RMSE sd', 'MAE mean', 'MAE sd', 'fit s (mean)', 'predict s (mean)'],
      rows: spread.map(({ r, rmse, mae }) => [r.model, paramsText(r.params), rmse.mean, figure(rmse.sd), mae.mean, figure(mae.sd), r.mean.fitSeconds, r.mean.predictSeconds]),
    },
  };
  const perFold: ReportSection = {
    heading: 'Per fold',
    charts: [
      {
        type: 'bar',
        title: 'RMSE per fold',
        caption: 'each model on each fold',
        yLabel: 'RMSE',
        bars: results.flatMap((r) => r.folds.map((f) => ({ category: r.model, group: f.name, value: f.rmse }))),
      },
    ],
    table: {
      columns: ['model', 'fold', 'train ratings', 'test ratings', 'MSE', 'RMSE', 'MAE', 'fit s', 'predict s'],
      rows: results.flatMap((r) => r.folds.map((f) => [r.model, f.name, f.trainRatings, f.testRatings, f.mse, f.rmse, f.mae, f.fitSeconds, f.predictSeconds])),
    },
  };
  const sections = [comparison, perFold];
  if (failed.length > 0) sections.push({ heading: 'Failed', text: failed.map((d) => `${d.model}: ${d.error}`).join('\n'), charts: [] });
  return document(`evaluate: ${results.map((r) => r.model).join(', ')}`, command, sections);
}

/**
 * `tune`: the objective against each searched parameter's values (the best trial marked: its own
 * series in the scatter, its bar outlined), every trial ranked, and the table of trials.
 */
export function tuneReport(command: string, model: string, search: string, objective: string, description: string, trials: SearchTrial[]): ReportDocument {
  const ok = trials.filter((t) => t.error === null);
  const best = ok[0] ?? null;
  const names = [...new Set(trials.flatMap((t) => Object.keys(t.params)))];
  const charts: ChartSpec[] = [];
  for (const name of names) {
    const values = ok.map((t) => t.params[name]);
    const numeric = values.every((v) => typeof v === 'number');
    if (numeric) {
      const xs = values as number[];
      const spanLog = xs.every((x) => x > 0) && Math.max(...xs) / Math.min(...xs) >= 50;
      charts.push({
        type: 'scatter',
        title: `Mean ${objective} against ${name}`,
        caption: `each trial's ${objective} (mean over the folds) at its ${name}; the best trial its own colour`,
        xLabel: name,
        yLabel: `mean ${objective}`,
        xType: spanLog ? 'log' : 'linear',
        // The best last, so that it is drawn over the others.
        points: [...ok.slice(1), ...ok.slice(0, 1)].map((t) => ({ x: t.params[name] as number, y: t.meanObjective, series: t === best ? 'best' : 'other trials', label: `${paramsText(t.params)}: ${t.meanObjective.toFixed(4)}` })),
      });
    } else {
      // A string parameter: per value, the best trial having it.
      const perValue = new Map<string, SearchTrial>();
      for (const t of ok) if (!perValue.has(String(t.params[name]))) perValue.set(String(t.params[name]), t);
      charts.push({
        type: 'bar',
        title: `Best mean ${objective} per value of ${name}`,
        caption: 'the best trial with each value; the overall best outlined',
        xLabel: name,
        yLabel: `mean ${objective}`,
        bars: [...perValue].map(([v, t]) => ({ category: v, value: t.meanObjective, highlight: t === best })),
      });
    }
  }
  charts.push({
    type: 'bar',
    orientation: 'horizontal',
    title: `Every trial by mean ${objective}`,
    caption: 'in rank order, the best first and outlined',
    xLabel: `mean ${objective}`,
    bars: ok.map((t) => ({ category: paramsText(t.params) || '(defaults)', value: t.meanObjective, highlight: t === best })),
  });
  const failed = trials.filter((t) => t.error !== null);
  // RMSE and MAE beside the objective, unless it is one of them.
  const besides = ([['mean RMSE', (t: SearchTrial) => t.meanRmse], ['mean MAE', (t: SearchTrial) => t.meanMae]] as Array<[string, (t: SearchTrial) => number]>).filter(
    ([h]) => h.toLowerCase() !== `mean ${objective}`.toLowerCase(),
  );
  return document(`tune: ${model} by ${objective}`, command, [
    {
      heading: `${search} search for ${model}`,
      text: `Each setting scored by its mean ${objective} over the folds of ${description}.${best ? ` Best: ${paramsText(best.params) || '(defaults)'} → ${best.meanObjective.toFixed(4)}.` : ' Every setting failed.'}${failed.length ? ` ${failed.length} setting(s) failed (in the table).` : ''}`,
      charts,
      table: {
        columns: ['rank', 'parameters', `mean ${objective}`, ...besides.map(([h]) => h), 'fit s', 'seconds', 'error'],
        rows: trials.map((t, i) =>
          t.error === null
            ? [i + 1, paramsText(t.params) || '(defaults)', t.meanObjective, ...besides.map(([, f]) => figure(f(t))), t.fitSeconds, t.seconds, null]
            : [null, paramsText(t.params) || '(defaults)', null, ...besides.map(() => null), null, t.seconds, t.error],
        ),
      },
    },
  ]);
}

/** rank-evaluate's figures in its printed order, with their column headings. */
export function rankingFigures(k: number): Array<[string, keyof RankingSummary]> {
  return [
    ['RMSE', 'rmse'],
    ['MAE', 'mae'],
    [`P@${k}`, 'precision'],
    [`R@${k}`, 'recall'],
    [`NDCG@${k}`, 'ndcg'],
    [`MAP@${k}`, 'map'],
    [`MRR@${k}`, 'mrr'],
    [`HR@${k}`, 'hitRate'],
    ['coverage', 'coverage'],
  ];
}

/** `rank-evaluate`: the top-k figures per model side by side (popular among them by default), ± sd over folds. */
export function rankEvaluateReport(command: string, description: string, k: number, results: RankingEvaluation[]): ReportDocument {
  const columns = rankingFigures(k);
  // Charted: the figures in 0..1 that compare lists (RMSE and MAE are another scale; MRR is in the table).
  const metrics = columns.filter(([, key]) => key !== 'rmse' && key !== 'mae' && key !== 'mrr');
  const many = results.some((r) => r.folds.length > 1);
  const bars: BarChartSpec['bars'] = [];
  for (const [label, key] of metrics) {
    for (const r of results) {
      const mean = figure(r.mean[key]);
      if (mean === null) continue;
      const sd = figure(r.sd[key]);
      bars.push({ category: label, group: r.model, value: mean, ...(many && sd !== null ? { error: sd } : {}) });
    }
  }
  return document(`rank-evaluate: ${results.map((r) => r.model).join(', ')}`, command, [
    {
      heading: `Top-${k} ranking per model`,
      text: `Evaluation on ${description}; relevant = held-out rating ≥ ${results[0]?.relevantThreshold}.${many ? ' Bars are means over the folds, the black rules ± one standard deviation.' : ''} Higher is better.`,
      charts: [{ type: 'bar', title: `Ranking figures at k = ${k} per model`, caption: many ? 'mean ± sd over the folds' : 'one split', yLabel: 'value', bars }],
      table: {
        columns: ['model', ...columns.flatMap(([h]) => (many ? [`${h} mean`, `${h} sd`] : [h]))],
        rows: results.map((r) => [r.model, ...columns.flatMap(([, key]) => (many ? [figure(r.mean[key]), figure(r.sd[key])] : [figure(r.mean[key])]))]),
      },
    },
  ]);
}

/** `train`: the learning curve (training and, with --validation, validation RMSE per epoch; a ranking model's loss) and the guard's verdict. */
export function trainReport(
  command: string,
  result: { model: string; params: Readonly<Record<string, unknown>>; ratings: number; heldOutRatings: number; heldOutRmse: number; reference: { kind: string; rmse: number } | null; out: string; history: TrainingProgress[] },
): ReportDocument {
  const h = result.history;
  const series: Extract<ChartSpec, { type: 'line' }>['series'] = [];
  const pick = (name: string, f: (p: TrainingProgress) => number | undefined, dashed = false) => {
    const points = h.filter((p) => f(p) !== undefined && Number.isFinite(f(p))).map((p) => ({ x: p.epoch, y: f(p) as number }));
    if (points.length > 0) series.push({ name, points, dashed });
  };
  pick('training RMSE', (p) => p.trainRmse);
  pick('validation RMSE', (p) => p.validationRmse, true);
  const charts: ChartSpec[] = [{ type: 'line', title: `Learning curve of ${result.model}`, caption: 'RMSE after each epoch', xLabel: 'epoch', yLabel: 'RMSE', series }];
  const losses = h.filter((p) => p.trainLoss !== undefined && Number.isFinite(p.trainLoss));
  if (losses.length > 0) {
    charts.push({ type: 'line', title: `Training loss of ${result.model}`, caption: 'the objective the fit minimises, after each epoch', xLabel: 'epoch', yLabel: 'loss', series: [{ name: 'training loss', points: losses.map((p) => ({ x: p.epoch, y: p.trainLoss as number })) }] });
  }
  return document(`train: ${result.model}`, command, [
    {
      heading: `${result.model} ${paramsText(result.params)}`,
      text:
        `Trained on ${result.ratings.toLocaleString('en-US')} ratings; held-out RMSE ${result.heldOutRmse.toFixed(4)} on ${result.heldOutRatings.toLocaleString('en-US')} ratings` +
        (result.reference ? `, beating ${result.reference.kind}'s ${result.reference.rmse.toFixed(4)}` : '') +
        `; wrote ${result.out}.`,
      charts,
      table: {
        columns: ['epoch', 'training RMSE', 'validation RMSE', 'training loss', 'seconds'],
        rows: h.map((p) => [p.epoch, figure(p.trainRmse), figure(p.validationRmse), figure(p.trainLoss), p.seconds]),
      },
    },
  ]);
}
