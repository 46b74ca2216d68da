/**
 * Chart library benchmark (issue 12, deliverable 1: pick by bundle size and render time at 17,770
 * points). Prints ONE JSON document on stdout; progress on stderr.
 *
 *   npm run bench:charts [-- --runs 5 --points 17770 --compare /tmp/charts-cmp]
 *
 * - bundles: minified and gzip (level 9) bytes of the report script as built
 *   (libs/charts/dist/web/report.js: renderChart, the report page, Plot and the d3 it uses), of
 *   all of Observable Plot (`import * as Plot`), and of a Plot bundle of only what a dot and a bar
 *   chart need; all bundled by esbuild as tools/build-web.js does (IIFE, minified, es2022).
 * - times in Debian's chromium (headless, 1280×900, --disable-gpu): renderChart on a log–log
 *   scatter of --points points and on --points vertical bars; from the call until two animation
 *   frames later (built, laid out and painted), the first run and the median of --runs.
 * - with --compare DIR (a scratch folder where `npm install uplot echarts vega vega-lite
 *   vega-embed` was run; not a dependency of the project): the same sizes for uPlot, ECharts (all
 *   of it, and core + scatter + bar + canvas), Vega-Lite (vega-embed: vega + vega-lite) and
 *   the same two charts' times drawn by uPlot (canvas), ECharts (canvas) and Vega-Lite (SVG).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const esbuild = require('esbuild') as typeof import('esbuild');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { chromium } = require('playwright-core') as typeof import('playwright-core');

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    points: { type: 'string', default: '17770' },
    compare: { type: 'string' },
  },
});
const positiveInt = (name: string, text: string): number => {
  const v = Number(text);
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`chart-bench: --${name} must be a positive integer, got ${JSON.stringify(text)}`);
  return v;
};
const runs = positiveInt('runs', values.runs!);
const points = positiveInt('points', values.points!);
// tools/dist/bench → the repository.
const root = path.resolve(__dirname, '..', '..', '..');
const CHROMIUM = '/usr/bin/chromium';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { BROWSER_BUILD } = require(path.join(root, 'tools/build-web.js')) as { BROWSER_BUILD: import('esbuild').BuildOptions };

/** `contents` bundled as tools/build-web.js bundles the report script. */
function bundle(contents: string, nodePaths: string[] = []): string {
  const out = esbuild.buildSync({
    ...BROWSER_BUILD,
    stdin: { contents, resolveDir: path.join(root, 'libs/charts/src'), loader: 'ts' },
    write: false,
    nodePaths,
    logLevel: 'silent',
  });
  return out.outputFiles[0].text;
}
const sizes = (code: string) => ({ minBytes: Buffer.byteLength(code), gzipBytes: gzipSync(code, { level: 9 }).length });

// The page's side: data like the long tail (k ratings → users having k, a noisy power law) and
// the two charts per library; each timed from the call to two animation frames later.
const PAGE_SCRIPT = `
window.benchData = (n) => {
  const pts = [];
  let s = 12345;
  for (let i = 1; i <= n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    pts.push({ x: i, y: Math.max(1, Math.round(2e6 * Math.pow(i, -1.6) * (0.5 + s / 2147483648))) });
  }
  return pts;
};
window.timeIt = async (draw) => {
  const host = document.createElement('div');
  host.style.width = '640px';
  document.body.append(host);
  const t0 = performance.now();
  await draw(host);
  host.getBoundingClientRect();
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const ms = performance.now() - t0;
  host.remove();
  return ms;
};
`;

interface Timing {
  firstMs: number;
  medianMs: number;
  runsMs: number[];
}

async function main(): Promise<void> {
  const load = loadavg()[0];
  process.stderr.write('chart-bench: bundling\n');
  const reportFile = path.join(root, 'libs/charts/dist/web/report.js');
  const bundles: Record<string, { minBytes: number; gzipBytes: number }> = {
    report: sizes(readFileSync(reportFile, 'utf8')),
    plotAll: sizes(bundle(`import * as Plot from '@observablehq/plot'; Object.assign(window, { Plot });`)),
    plotDotBar: sizes(bundle(`import { plot, dot, barY } from '@observablehq/plot'; Object.assign(window, { plot, dot, barY });`)),
  };
  const scripts: Record<string, string> = {
    plot: bundle(`import { renderChart } from './render'; Object.assign(window, { renderChart });`),
  };
  const cmp = values.compare ? [path.join(path.resolve(values.compare), 'node_modules')] : null;
  if (cmp) {
    scripts.uplot = bundle(`import uPlot from 'uplot'; Object.assign(window, { uPlot });`, cmp);
    scripts.echarts = bundle(`import * as echarts from 'echarts'; Object.assign(window, { echarts });`, cmp);
    scripts.vegaLite = bundle(`import vegaEmbed from 'vega-embed'; Object.assign(window, { vegaEmbed });`, cmp);
    bundles.uplot = sizes(scripts.uplot);
    bundles.echartsAll = sizes(scripts.echarts);
    bundles.echartsScatterBarCanvas = sizes(
      bundle(
        `import * as echarts from 'echarts/core'; import { ScatterChart, BarChart } from 'echarts/charts'; import { GridComponent } from 'echarts/components'; import { CanvasRenderer } from 'echarts/renderers';
         echarts.use([ScatterChart, BarChart, GridComponent, CanvasRenderer]); Object.assign(window, { echarts });`,
        cmp,
      ),
    );
    bundles.vegaLiteEmbed = sizes(scripts.vegaLite);
  }

  const dir = mkdtempSync(path.join(tmpdir(), 'recsys-chart-bench-'));
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'] });
  const times: Record<string, Record<string, Timing>> = {};
  try {
    const draws: Record<string, Record<string, string>> = {
      plot: {
        scatterLogLog: `(host) => host.append(renderChart({ type: 'scatter', title: 'long tail', xType: 'log', yType: 'log', points: data }, { width: 640 }))`,
        bars: `(host) => host.append(renderChart({ type: 'bar', title: 'bars', bars: data.map((p) => ({ category: String(p.x), value: p.y })) }, { width: 640 }))`,
      },
      uplot: {
        scatterLogLog: `(host) => new uPlot({ width: 640, height: 384, scales: { x: { time: false, distr: 3 }, y: { distr: 3 } }, series: [{}, { stroke: '#0072B2', paths: () => null, points: { show: true, size: 3, fill: '#0072B2' } }] }, [data.map((p) => p.x), data.map((p) => p.y)], host)`,
        bars: `(host) => new uPlot({ width: 640, height: 300, scales: { x: { time: false } }, series: [{}, { fill: '#0072B2', paths: uPlot.paths.bars({ size: [0.8] }) }] }, [data.map((p) => p.x), data.map((p) => p.y)], host)`,
      },
      echarts: {
        scatterLogLog: `(host) => { host.style.height = '384px'; echarts.init(host, null, { renderer: 'canvas', width: 640, height: 384 }).setOption({ animation: false, xAxis: { type: 'log' }, yAxis: { type: 'log' }, series: [{ type: 'scatter', symbolSize: 3, large: false, data: data.map((p) => [p.x, p.y]) }] }) }`,
        bars: `(host) => { host.style.height = '300px'; echarts.init(host, null, { renderer: 'canvas', width: 640, height: 300 }).setOption({ animation: false, xAxis: { type: 'category', data: data.map((p) => String(p.x)) }, yAxis: { type: 'value' }, series: [{ type: 'bar', large: false, data: data.map((p) => p.y) }] }) }`,
      },
      vegaLite: {
        scatterLogLog: `(host) => vegaEmbed(host, { $schema: 'https://vega.github.io/schema/vega-lite/v5.json', width: 640, height: 384, data: { values: data }, mark: { type: 'circle', size: 9 }, encoding: { x: { field: 'x', type: 'quantitative', scale: { type: 'log' } }, y: { field: 'y', type: 'quantitative', scale: { type: 'log' } } } }, { renderer: 'svg', actions: false })`,
        bars: `(host) => vegaEmbed(host, { $schema: 'https://vega.github.io/schema/vega-lite/v5.json', width: 640, height: 300, data: { values: data }, mark: 'bar', encoding: { x: { field: 'x', type: 'ordinal', axis: null }, y: { field: 'y', type: 'quantitative' } } }, { renderer: 'svg', actions: false })`,
      },
    };
    for (const [lib, script] of Object.entries(scripts)) {
      writeFileSync(path.join(dir, `${lib}.js`), script);
      writeFileSync(path.join(dir, `${lib}.html`), `<!doctype html><meta charset="utf-8"><body><script>${PAGE_SCRIPT}</script><script src="${lib}.js"></script></body>`);
      times[lib] = {};
      for (const [chart, draw] of Object.entries(draws[lib])) {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        page.on('console', (m) => {
          if (m.type() === 'error') errors.push(m.text());
        });
        await page.goto(pathToFileURL(path.join(dir, `${lib}.html`)).href);
        process.stderr.write(`chart-bench: ${lib} ${chart} × ${runs + 1}\n`);
        const ms = await page.evaluate(
          async ([n, k, drawText]) => {
            // Runs in the page (tools type-check without the DOM lib).
            const w = globalThis as unknown as { benchData: (n: number) => unknown[]; timeIt: (draw: (host: unknown) => unknown) => Promise<number> };
            const data = w.benchData(n);
            const draw = new Function('data', `return ${drawText}`)(data) as (host: unknown) => unknown;
            const out: number[] = [];
            for (let i = 0; i <= k; i++) out.push(await w.timeIt(draw));
            return out;
          },
          [points, runs, draw] as const,
        );
        if (errors.length > 0) throw new Error(`chart-bench: ${lib} ${chart}: ${errors.join('; ')}`);
        await page.close();
        const rest = ms.slice(1).sort((a, b) => a - b);
        const round = (x: number) => Math.round(x * 10) / 10;
        times[lib][chart] = { firstMs: round(ms[0]), medianMs: round(rest[Math.floor(rest.length / 2)]), runsMs: ms.slice(1).map(round) };
      }
    }
    const version = browser.version();
    process.stdout.write(JSON.stringify({ points, runs, chromium: version, loadAverageBefore: load, loadAverageAfter: loadavg()[0], bundles, times }, null, 2) + '\n');
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
