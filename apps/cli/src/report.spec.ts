import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ReportDocument } from '@recsys/charts';
import { describeWithBrowser, openBrowser, tempDir } from '@recsys/testing';
import { RunFailedError } from './errors';
import { prepareReport, REPORT_CSP, reportHtml, reportScriptPath } from './report';
import { run } from './testing/run-cli';

// --report FILE.html on evaluate, tune, rank-evaluate and train: the page's embedded JSON holds
// the figures the command printed (--json), and chromium opens it from file:// with no request
// but the file itself, no console error, and the marks the document asks for.

const dir = tempDir('recsys-cli-report-');

// 40 users × 30 movies, rating 1 + (u mod 3) + (m mod 3) (additive: biases explain it, so
// baseline beats the mean), every pair with (u + m) mod 4 ≠ 0: 900 ratings.
const rows: string[] = [];
for (let u = 1; u <= 40; u++) for (let m = 1; m <= 30; m++) if ((u + m) % 4 !== 0) rows.push(`${u}\t${m}\t${1 + (u % 3) + (m % 3)}\t${881250949 + rows.length}`);
const data = path.join(dir, 'u.data');
fs.writeFileSync(data, rows.join('\n') + '\n');

/** The ReportDocument embedded in a report file. */
function embedded(file: string): ReportDocument {
  const html = fs.readFileSync(file, 'utf8');
  const m = /<script type="application\/json" id="report-data">([^<]*)<\/script>/.exec(html);
  if (!m) throw new Error(`${file} has no report-data script`);
  return JSON.parse(m[1]) as ReportDocument;
}

/** Sample standard deviation (n − 1), by a plain loop. */
function sd(xs: number[]): number {
  let mean = 0;
  for (const x of xs) mean += x / xs.length;
  let ss = 0;
  for (const x of xs) ss += (x - mean) ** 2;
  return Math.sqrt(ss / (xs.length - 1));
}

/** Opens `file` from file:// in chromium; answers the mark counts and what the page requested. */
async function openReport(file: string): Promise<{ requested: string[]; errors: string[]; rects: number; circles: number; lines: number; tables: number; headings: string[] }> {
  const browser = await openBrowser();
  try {
    const url = pathToFileURL(file).href;
    await browser.page.goto(url);
    await browser.page.waitForSelector('main h1');
    const counts = await browser.page.evaluate(() => ({
      rects: document.querySelectorAll('svg g.recsys-bar rect').length,
      circles: document.querySelectorAll('svg g.recsys-point circle').length,
      lines: document.querySelectorAll('svg g.recsys-line path').length,
      tables: document.querySelectorAll('table').length,
      headings: [...document.querySelectorAll('h2')].map((h) => h.textContent ?? ''),
    }));
    expect(browser.foreignRequests(url)).toEqual([]);
    return { requested: [...browser.requested], errors: [...browser.errors], ...counts };
  } finally {
    await browser.close();
  }
}

describeWithBrowser('recsys --report FILE.html', () => {
  test('evaluate: RMSE and MAE per model (mean ± sd over folds) and per fold, as printed; opens offline with 2×2 + 2×3 bars', async () => {
    const file = path.join(dir, 'evaluate.html');
    const { code, stdout } = await run('evaluate', '--data', data, '--folds', '3', '--model', 'baseline,mean', '--json', '--report', file);
    expect(code).toBe(0);
    const printed = JSON.parse(stdout) as { results: Array<{ model: string; folds: Array<{ name: string; rmse: number; mae: number }>; mean: { rmse: number; mae: number } }> };
    const doc = embedded(file);
    expect(doc.command).toBe(`recsys evaluate --data ${data} --folds 3 --model baseline,mean --json --report ${file}`);
    const [comparison, perFold] = doc.sections;
    expect(comparison.table!.rows.map((r) => [r[0], r[2], r[3], r[4], r[5]])).toEqual(
      printed.results.map((r) => [r.model, r.mean.rmse, expect.closeTo(sd(r.folds.map((f) => f.rmse)), 12), r.mean.mae, expect.closeTo(sd(r.folds.map((f) => f.mae)), 12)]),
    );
    expect(perFold.table!.rows.map((r) => [r[0], r[1], r[5], r[6]])).toEqual(printed.results.flatMap((r) => r.folds.map((f) => [r.model, f.name, f.rmse, f.mae])));
    // The lower mean RMSE is the highlighted model.
    const best = printed.results.reduce((a, b) => (b.mean.rmse < a.mean.rmse ? b : a)).model;
    const chart = comparison.charts[0];
    expect(chart.type === 'bar' && chart.bars.filter((b) => b.highlight).map((b) => b.category)).toEqual([best, best]);
    const page = await openReport(file);
    expect(page.requested).toEqual([pathToFileURL(file).href]);
    expect(page.errors).toEqual([]);
    expect(page.rects).toBe(2 * 2 + 2 * 3);
    expect(page.tables).toBe(2);
    expect(page.headings).toEqual(['RMSE and MAE per model', 'Per fold']);
  });

  test('tune: the objective against each parameter (a point per trial) and every trial ranked, the best marked', async () => {
    const file = path.join(dir, 'tune.html');
    const { code, stdout } = await run('tune', '--data', data, '--holdout', '0.2', '--model', 'baseline', '--grid', '{"regUser":[1,5,25],"regMovie":[1,3]}', '--json', '--report', file);
    expect(code).toBe(0);
    const printed = JSON.parse(stdout) as { best: { params: Record<string, number>; meanObjective: number }; trials: Array<{ params: Record<string, number>; meanObjective: number }> };
    const doc = embedded(file);
    const charts = doc.sections[0].charts;
    expect(charts.map((c) => c.type)).toEqual(['scatter', 'scatter', 'bar']);
    for (const [i, name] of ['regUser', 'regMovie'].entries()) {
      const c = charts[i];
      if (c.type !== 'scatter') throw new Error('not a scatter');
      // Every trial, the best (printed first) drawn last.
      expect(c.points.map((p) => [p.x, p.y])).toEqual([...printed.trials.slice(1), printed.trials[0]].map((t) => [t.params[name], t.meanObjective]));
      expect(c.points.filter((p) => p.series === 'best').map((p) => [p.x, p.y])).toEqual([[printed.best.params[name], printed.best.meanObjective]]);
    }
    expect(doc.sections[0].table!.columns).toEqual(['rank', 'parameters', 'mean RMSE', 'mean MAE', 'fit s', 'seconds', 'error']);
    const ranked = charts[2];
    expect(ranked.type === 'bar' && ranked.bars.map((b) => [b.value, b.highlight])).toEqual(printed.trials.map((t, i) => [t.meanObjective, i === 0]));
    const page = await openReport(file);
    expect(page.errors).toEqual([]);
    expect(page.circles).toBe(2 * 6);
    expect(page.rects).toBe(6);
  });

  test('rank-evaluate: P@k, R@k, NDCG@k, MAP@k, HR@k and coverage per model beside popular', async () => {
    const file = path.join(dir, 'rank.html');
    const { code, stdout } = await run('rank-evaluate', '--data', data, '--folds', '2', '--model', 'baseline,popular', '--top-k', '5', '--json', '--report', file);
    expect(code).toBe(0);
    const printed = JSON.parse(stdout) as { results: Array<{ model: string; mean: Record<string, number>; sd: Record<string, number> }> };
    const doc = embedded(file);
    const chart = doc.sections[0].charts[0];
    if (chart.type !== 'bar') throw new Error('not a bar chart');
    const keys: Array<[string, string]> = [['P@5', 'precision'], ['R@5', 'recall'], ['NDCG@5', 'ndcg'], ['MAP@5', 'map'], ['HR@5', 'hitRate'], ['coverage', 'coverage']];
    expect(chart.bars.map((b) => [b.category, b.group, b.value, b.error])).toEqual(
      keys.flatMap(([label, key]) => printed.results.map((r) => [label, r.model, r.mean[key], r.sd[key]])),
    );
    expect(printed.results.map((r) => r.model)).toEqual(['baseline', 'popular']);
    const page = await openReport(file);
    expect(page.errors).toEqual([]);
    expect(page.rects).toBe(6 * 2);
  });

  test('train: the learning curve, training and validation RMSE per epoch as printed', async () => {
    const file = path.join(dir, 'train.html');
    const out = path.join(dir, 'baseline.model');
    const { code, stdout } = await run('train', '--data', data, '--model', 'baseline', '--epochs', '6', '--validation', '0.2', '--out', out, '--json', '--report', file);
    expect(code).toBe(0);
    const printed = JSON.parse(stdout) as { history: Array<{ epoch: number; trainRmse: number; validationRmse: number }> };
    expect(printed.history).toHaveLength(6);
    const chart = embedded(file).sections[0].charts[0];
    if (chart.type !== 'line') throw new Error('not a line chart');
    expect(chart.series.map((s) => [s.name, s.dashed, s.points])).toEqual([
      ['training RMSE', false, printed.history.map((h) => ({ x: h.epoch, y: h.trainRmse }))],
      ['validation RMSE', true, printed.history.map((h) => ({ x: h.epoch, y: h.validationRmse }))],
    ]);
    const page = await openReport(file);
    expect(page.errors).toEqual([]);
    expect(page.lines).toBe(2);
  });
});

describe('recsys --report: refused before the work starts', () => {
  test('a missing folder or a folder that is a file: one line, exit 2, nothing printed, nothing left', async () => {
    const before = fs.readdirSync(dir).sort();
    for (const [target, reason] of [
      [path.join(dir, 'no-such-folder', 'r.html'), `the folder ${path.join(dir, 'no-such-folder')} does not exist`],
      [path.join(data, 'r.html'), `cannot write in ${data} (ENOTDIR)`],
      [dir, 'is a folder, not a file'],
    ]) {
      const { code, stdout, stderr } = await run('evaluate', '--data', data, '--folds', '3', '--model', 'mean', '--report', target);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toBe(`recsys: --report ${target}: ${reason}\n`);
    }
    const train = await run('train', '--data', data, '--model', 'baseline', '--out', path.join(dir, 'x.model'), '--report', path.join(dir, 'nope', 'r.html'));
    expect(train.code).toBe(2);
    expect(fs.readdirSync(dir).sort()).toEqual(before);
  });

  test('--report twice, --report followed by an option, or a path ending in a separator: exit 2 saying so, nothing written', async () => {
    const before = fs.readdirSync(dir).sort();
    const a = path.join(dir, 'a.html');
    const b = path.join(dir, 'b.html');
    const twice = await run('evaluate', '--data', data, '--folds', '3', '--model', 'mean', '--report', a, '--report', b);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain(`--report given twice ("${a}" and "${b}"): give one file`);
    // `--report --json` would otherwise write a file named --json (in the working folder) and print no JSON.
    const option = await run('evaluate', '--data', data, '--folds', '3', '--model', 'mean', '--report', '--json');
    fs.rmSync('--json', { force: true });
    expect(option.code).toBe(2);
    expect(option.stderr).toContain('--report needs a file name, got the option --json (for a file so named write ./--json)');
    const folder = path.join(dir, 'new-folder') + path.sep;
    const slash = await run('evaluate', '--data', data, '--folds', '3', '--model', 'mean', '--report', folder);
    expect(slash).toEqual({ code: 2, stdout: '', stderr: `recsys: --report ${folder}: names a folder (it ends with a path separator), not a file\n` });
    expect(fs.readdirSync(dir).sort()).toEqual(before);
  });

  test('a run that fails after the check leaves an existing report as it was; a path with spaces and non-ASCII is written', async () => {
    const file = path.join(dir, 'kept report ü 日本.html');
    fs.writeFileSync(file, 'the earlier report');
    const failed = await run('evaluate', '--data', path.join(dir, 'no-such-data.tsv'), '--folds', '3', '--model', 'mean', '--report', file);
    expect(failed.code).not.toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toBe('the earlier report');
    // No temporary file left beside it.
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const ok = await run('evaluate', '--data', data, '--folds', '3', '--model', 'mean', '--report', file);
    expect(ok.code).toBe(0);
    expect(embedded(file).command).toBe(`recsys evaluate --data ${data} --folds 3 --model mean --report '${file}'`);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    fs.rmSync(file);
  });

  test('a report script that is not built is a run failure saying how to build it', () => {
    const missing = path.join(dir, 'no-dist', 'report.js');
    expect(() => prepareReport(path.join(dir, 'r.html'), missing)).toThrow(new RunFailedError(`--report needs the report script ${missing}, which is not built: run npm run build`));
    expect(prepareReport(undefined, missing)).toBeUndefined();
  });
});

describeWithBrowser('reportHtml', () => {
  test('text in the data cannot end the script element: a title holding </script> shows as text', async () => {
    const title = 'a </script><script>document.title="owned"</script> b';
    const doc: ReportDocument = { title, command: 'recsys test', generatedAt: '2026-01-01T00:00:00Z', sections: [{ heading: '<b>h</b>', charts: [{ type: 'bar', title: '</script>', bars: [{ category: 'x', value: 1 }] }] }] };
    const html = reportHtml(doc, fs.readFileSync(reportScriptPath(), 'utf8'));
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">`);
    expect(html).not.toContain('</script><script>document');
    const file = path.join(dir, 'escape.html');
    fs.writeFileSync(file, html);
    const browser = await openBrowser();
    try {
      await browser.page.goto(pathToFileURL(file).href);
      await browser.page.waitForSelector('main h1');
      expect(await browser.page.evaluate(() => [document.title, document.querySelector('h1')?.textContent, document.querySelector('h2')?.textContent, document.querySelectorAll('svg g.recsys-bar rect').length])).toEqual([title, title, '<b>h</b>', 1]);
      expect(browser.errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
