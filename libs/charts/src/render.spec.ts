import { describeWithBrowser, openBrowser, tempDir, type BrowserSession } from '@recsys/testing';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ChartSpec } from './spec';

/** `contents` (TypeScript importing from `resolveDir`) bundled for the browser as tools/build-web.js does. */
async function bundleForTest(contents: string, resolveDir: string): Promise<string> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  const out = await esbuild.build({ stdin: { contents, resolveDir, loader: 'ts' }, bundle: true, write: false, format: 'iife', target: 'es2022', platform: 'browser', logLevel: 'silent' });
  return out.outputFiles[0].text;
}

// renderChart in chromium: bundled from the sources with esbuild (as tools/build-web.js does),
// loaded from file:// by a page with the report's CSP, then asked to draw known specs; the
// marks are counted in the resulting SVG.
describeWithBrowser('renderChart in chromium', () => {
  const dir = tempDir('recsys-charts-render-');
  let browser: BrowserSession;
  let origin: string;

  beforeAll(async () => {
    const script = await bundleForTest(`import { renderChart, PALETTE } from './render'; Object.assign(window, { renderChart, PALETTE });`, __dirname);
    writeFileSync(join(dir, 'render.js'), script);
    writeFileSync(
      join(dir, 'index.html'),
      `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'"><title>t</title></head><body><main id="out"></main><script src="render.js"></script></body></html>`,
    );
    const url = pathToFileURL(join(dir, 'index.html')).href;
    origin = pathToFileURL(dir).href;
    browser = await openBrowser();
    await browser.page.goto(url);
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(() => {
    expect(browser.errors).toEqual([]);
    expect(browser.foreignRequests(origin)).toEqual([]);
  });

  /** Renders `spec` into a fresh #out and answers `probe` (a function of the figure) from the page. */
  async function draw<T>(spec: ChartSpec, probe: string, width = 640): Promise<T> {
    return browser.page.evaluate(
      ([s, p, w]) => {
        const out = document.getElementById('out') as HTMLElement;
        out.replaceChildren();
        const fig = (window as unknown as { renderChart: (s: unknown, o: unknown) => HTMLElement }).renderChart(JSON.parse(s as string), { width: w });
        out.append(fig);
        return new Function('fig', `return (${p as string})(fig)`)(fig) as never;
      },
      [JSON.stringify(spec), probe, width] as const,
    ) as Promise<T>;
  }

  const marks = (label: string, el = 'rect') => `(fig) => fig.querySelectorAll('svg g.recsys-${label} ${el}').length`;

  test('vertical bars: one rect per bar, in the given order, title and caption in the figure, aria-label on the svg', async () => {
    const spec: ChartSpec = {
      type: 'bar',
      title: 'RMSE per model',
      caption: 'mean over 5 folds',
      bars: [
        { category: 'svd', value: 0.93, error: 0.01, highlight: true },
        { category: 'baseline', value: 0.95, error: 0.02 },
        { category: 'mean', value: 1.12 },
      ],
    };
    const got = await draw<{ rects: number; errors: number; ticks: string[]; label: string | null; caption: string; tag: string; titles: string[]; strokes: string[] }>(
      spec,
      `(fig) => ({
        rects: fig.querySelectorAll('svg g.recsys-bar rect').length,
        errors: fig.querySelectorAll('svg g.recsys-error line').length,
        ticks: [...fig.querySelectorAll('svg [aria-label="x-axis tick label"] text')].map((t) => t.textContent),
        label: fig.querySelector('svg').getAttribute('aria-label'),
        caption: fig.querySelector('figcaption').textContent,
        tag: fig.tagName,
        titles: [...fig.querySelectorAll('svg g.recsys-bar rect title')].map((t) => t.textContent),
        strokes: [...fig.querySelectorAll('svg g.recsys-bar rect')].map((r) => r.getAttribute('stroke')),
      })`,
    );
    expect(got.tag).toBe('FIGURE');
    expect(got.rects).toBe(3);
    expect(got.errors).toBe(2);
    expect(got.ticks).toEqual(['svd', 'baseline', 'mean']);
    expect(got.label).toBe('RMSE per model');
    expect(got.caption).toBe('RMSE per model mean over 5 folds');
    expect(got.titles).toEqual(['svd: 0.93 ± 0.01 (highlighted)', 'baseline: 0.95 ± 0.02', 'mean: 1.12']);
    expect(got.strokes).toEqual(['#000000', 'none', 'none']);
  });

  test('descending sort orders the bands by value', async () => {
    const ticks = await draw<string[]>(
      { type: 'bar', title: 't', sort: 'descending', bars: [{ category: 'a', value: 1 }, { category: 'b', value: 3 }, { category: 'c', value: 2 }] },
      `(fig) => [...fig.querySelectorAll('svg [aria-label="x-axis tick label"] text')].map((t) => t.textContent)`,
    );
    expect(ticks).toEqual(['b', 'c', 'a']);
  });

  test('grouped bars: one rect per (category, group), a legend entry per group in palette order', async () => {
    const bars = [];
    for (const model of ['svd', 'baseline']) for (const fold of ['1', '2', '3']) bars.push({ category: model, group: `fold ${fold}`, value: 0.9 + Number(fold) / 100 });
    const got = await draw<{ rects: number; legend: string[]; fills: string[] }>(
      { type: 'bar', title: 'per fold', bars },
      `(fig) => ({
        rects: fig.querySelectorAll('svg g.recsys-bar rect').length,
        legend: [...fig.querySelectorAll('.recsys-chart-legend [role="listitem"]')].map((e) => e.textContent),
        fills: [...new Set([...fig.querySelectorAll('.recsys-chart-legend line')].map((l) => l.getAttribute('stroke')))],
      })`,
    );
    expect(got.rects).toBe(6);
    expect(got.legend).toEqual(['fold 1', 'fold 2', 'fold 3']);
    expect(got.fills).toEqual(['#0072B2', '#E69F00', '#009E73']);
  });

  test('horizontal signed bars with links: each bar an <a> that Tab reaches and Enter follows', async () => {
    const spec: ChartSpec = {
      type: 'bar',
      orientation: 'horizontal',
      signed: true,
      title: 'Why',
      bars: [
        { category: 'Movie A', value: 0.4, href: '#/movie/1' },
        { category: 'Movie B', value: -0.2, href: '#/movie/2' },
        { category: 'Movie C', value: 0.1, href: '#/movie/3' },
      ],
    };
    const got = await draw<{ anchors: string[]; rects: number; zero: number }>(
      spec,
      `(fig) => ({
        anchors: [...fig.querySelectorAll('svg a')].map((a) => a.getAttribute('href') ?? a.getAttribute('xlink:href')),
        rects: fig.querySelectorAll('svg g.recsys-bar rect').length,
        zero: fig.querySelectorAll('svg [aria-label="rule"] line').length,
      })`,
    );
    expect(got.rects).toBe(3);
    expect(got.anchors).toEqual(['#/movie/1', '#/movie/2', '#/movie/3']);
    expect(got.zero).toBe(1);
    const page = browser.page;
    await page.evaluate(() => {
      location.hash = '';
      (document.activeElement as HTMLElement | null)?.blur();
    });
    const focused: string[] = [];
    for (let i = 0; i < 3; i++) {
      await page.keyboard.press('Tab');
      focused.push(await page.evaluate(() => (document.activeElement?.tagName ?? '') + ' ' + (document.activeElement?.getAttribute('href') ?? '')));
    }
    expect(focused).toEqual(['a #/movie/1', 'a #/movie/2', 'a #/movie/3']);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => location.hash === '#/movie/3');
  });

  test('lines: a path per series, dashed series dashed, log x axis ticks at powers of ten (Plot writes 1000 as 1k)', async () => {
    const points = (f: (x: number) => number) => [1, 10, 100, 1000].map((x) => ({ x, y: f(x) }));
    const got = await draw<{ paths: number; dashed: (string | null)[]; ticks: string[]; legend: number }>(
      {
        type: 'line',
        title: 'curves',
        xType: 'log',
        series: [
          { name: 'training', points: points((x) => 1 / Math.log10(x + 2)) },
          { name: 'validation', points: points((x) => 1.1 / Math.log10(x + 2)), dashed: true },
        ],
      },
      `(fig) => ({
        paths: fig.querySelectorAll('svg g.recsys-line path').length,
        dashed: [...fig.querySelectorAll('svg g.recsys-line')].map((g) => g.getAttribute('stroke-dasharray')),
        ticks: [...fig.querySelectorAll('svg [aria-label="x-axis tick label"] text')].map((t) => t.textContent).filter((t) => t),
        legend: fig.querySelectorAll('.recsys-chart-legend [role="listitem"]').length,
      })`,
    );
    expect(got.paths).toBe(2);
    expect(got.dashed).toEqual([null, '6 4']);
    expect(got.ticks).toEqual(expect.arrayContaining(['1', '10', '100', '1k']));
    expect(got.legend).toBe(2);
  });

  test('time lines: months on a UTC axis; a bad month is an error naming the point', async () => {
    const got = await draw<{ paths: number; dots: number }>(
      { type: 'line', title: 'per month', xType: 'time', series: [{ name: 'ratings', points: [{ x: '2005-01', y: 3 }, { x: '2005-02', y: 5 }, { x: '2005-03-15', y: 4 }] }] },
      `(fig) => ({ paths: fig.querySelectorAll('svg g.recsys-line path').length, dots: fig.querySelectorAll('svg g.recsys-points circle').length })`,
    );
    expect(got).toEqual({ paths: 1, dots: 3 });
    const message = await browser.page.evaluate(() => {
      try {
        (window as unknown as { renderChart: (s: unknown) => HTMLElement }).renderChart({ type: 'line', title: 'bad', xType: 'time', series: [{ name: 's', points: [{ x: '2005-13', y: 1 }] }] });
        return 'no error';
      } catch (e) {
        return (e as Error).message;
      }
    });
    expect(message).toBe(`renderChart: chart 'bad': series[0] ('s') points[0].x is "2005-13", not a 'YYYY-MM' or 'YYYY-MM-DD' date`);
  });

  test('log–log scatter of 17,770 points: one path of 17,770 circle subpaths (above PATH_SCATTER_THRESHOLD), power-of-ten ticks on both axes', async () => {
    const points = Array.from({ length: 17770 }, (_, i) => ({ x: i + 1, y: 1 + ((i * 7919) % 5000) }));
    const got = await draw<{ circles: number; paths: string[]; subpaths: number; x: string[]; y: string[] }>(
      { type: 'scatter', title: 'long tail', xType: 'log', yType: 'log', points },
      `(fig) => ({
        circles: fig.querySelectorAll('svg g.recsys-point circle').length,
        paths: [...fig.querySelectorAll('svg g.recsys-point path')].map((p) => p.getAttribute('data-points')),
        subpaths: [...fig.querySelectorAll('svg g.recsys-point path')].reduce((n, p) => n + (p.getAttribute('d').match(/M/g) || []).length, 0),
        x: [...fig.querySelectorAll('svg [aria-label="x-axis tick label"] text')].map((t) => t.textContent).filter((t) => t),
        y: [...fig.querySelectorAll('svg [aria-label="y-axis tick label"] text')].map((t) => t.textContent).filter((t) => t),
      })`,
    );
    expect(got.circles).toBe(0);
    expect(got.paths).toEqual(['17770']);
    expect(got.subpaths).toBe(17770);
    expect(got.x).toEqual(expect.arrayContaining(['1', '10', '100', '1k', '10k']));
    expect(got.y).toEqual(expect.arrayContaining(['1', '10', '100', '1k']));
  });

  test('a scatter of 3,000 points in two series: 3,000 circles, a legend entry per series; 6,000 points: a path per series', async () => {
    const points = Array.from({ length: 3000 }, (_, i) => ({ x: i + 1, y: (i % 97) + 1, series: i % 3 === 0 ? 'movies' : 'users' }));
    const small = await draw<{ circles: number; legend: string[] }>(
      { type: 'scatter', title: 't', points },
      `(fig) => ({ circles: fig.querySelectorAll('svg g.recsys-point circle').length, legend: [...fig.querySelectorAll('.recsys-chart-legend [role="listitem"]')].map((e) => e.textContent) })`,
    );
    expect(small).toEqual({ circles: 3000, legend: ['movies', 'users'] });
    const large = await draw<Array<[string | null, string | null]>>(
      { type: 'scatter', title: 't', points: [...points, ...points.map((p) => ({ ...p, y: p.y + 100 }))] },
      `(fig) => [...fig.querySelectorAll('svg g.recsys-point path')].map((p) => [p.getAttribute('fill'), p.getAttribute('data-points')])`,
    );
    expect(large).toEqual([
      ['#0072B2', '2000'],
      ['#E69F00', '4000'],
    ]);
  });

  test('log scatter leaves out the points a log axis cannot show', async () => {
    const circles = await draw<number>(
      { type: 'scatter', title: 't', xType: 'log', yType: 'log', points: [{ x: 0, y: 1 }, { x: 1, y: 0 }, { x: 2, y: 3 }, { x: 5, y: 7 }] },
      marks('point', 'circle'),
    );
    expect(circles).toBe(2);
  });

  test('graph: centre and neighbours at distance 1 − similarity, link widths by value, node links', async () => {
    const got = await draw<{ circles: number; links: number; widths: number[]; anchors: string[]; labels: string[]; d: number[] }>(
      {
        type: 'graph',
        title: 'neighbours',
        nodes: [
          { id: '1', label: 'Centre', href: '#/movie/1' },
          { id: '2', label: 'Near', href: '#/movie/2' },
          { id: '3', label: 'Far', href: '#/movie/3' },
        ],
        links: [
          { source: '1', target: '2', value: 0.8 },
          { source: '1', target: '3', value: 0.2 },
        ],
      },
      `(fig) => {
        const c = [...fig.querySelectorAll('svg g.recsys-node circle')].map((e) => [Number(e.getAttribute('cx')), Number(e.getAttribute('cy'))]);
        const dist = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1]);
        return {
          circles: c.length,
          links: fig.querySelectorAll('svg g.recsys-link path').length,
          widths: [...fig.querySelectorAll('svg g.recsys-link path')].map((p) => Number(p.getAttribute('stroke-width'))),
          anchors: [...fig.querySelectorAll('svg a')].map((a) => a.getAttribute('href')),
          labels: [...fig.querySelectorAll('svg g.recsys-label text')].map((t) => t.textContent),
          d: [dist(c[0], c[1]), dist(c[0], c[2])],
        };
      }`,
      400,
    );
    expect(got.circles).toBe(3);
    expect(got.links).toBe(2);
    expect(got.widths[0]).toBeCloseTo(1 + 6 * 0.8, 5);
    expect(got.widths[1]).toBeCloseTo(1 + 6 * 0.2, 5);
    expect(got.anchors).toEqual(['#/movie/1', '#/movie/2', '#/movie/3']);
    expect(got.labels).toEqual(['Centre', 'Near', 'Far']);
    // distances in pixels are proportional to 1 − similarity: 0.2 : 0.8
    expect(got.d[1] / got.d[0]).toBeCloseTo(0.8 / 0.2, 3);
  });

  test('empty data of every type is a "No data to show." note, not an exception', async () => {
    const specs: ChartSpec[] = [
      { type: 'bar', title: 'b', bars: [] },
      { type: 'line', title: 'l', series: [] },
      { type: 'line', title: 'l2', series: [{ name: 'x', points: [] }] },
      { type: 'scatter', title: 's', points: [] },
      { type: 'graph', title: 'g', nodes: [], links: [] },
    ];
    for (const spec of specs) {
      const got = await draw<{ note: string | null; svg: number }>(spec, `(fig) => ({ note: fig.querySelector('.recsys-chart-empty')?.textContent ?? null, svg: fig.querySelectorAll('svg').length })`);
      expect(got).toEqual({ note: 'No data to show.', svg: 0 });
    }
  });

  test('a link to a missing node and a non-finite value are errors naming the field', async () => {
    const messages = await browser.page.evaluate(() => {
      const render = (window as unknown as { renderChart: (s: unknown) => HTMLElement }).renderChart;
      const attempt = (s: unknown) => {
        try {
          render(s);
          return 'no error';
        } catch (e) {
          return (e as Error).message;
        }
      };
      return [
        attempt({ type: 'graph', title: 'g', nodes: [{ id: 'a', label: 'A' }], links: [{ source: 'a', target: 'b', value: 1 }] }),
        attempt({ type: 'bar', title: 'b', bars: [{ category: 'x', value: null }] }),
        attempt({ type: 'pie', title: 'p' }),
      ];
    });
    expect(messages).toEqual([
      "renderChart: chart 'g': links[0].target is 'b', which is not the id of any node",
      "renderChart: chart 'b': bars[0].value is null, not a finite number",
      "renderChart: unknown chart type 'pie' in chart 'p' (expected bar, line, scatter or graph)",
    ]);
  });
});
