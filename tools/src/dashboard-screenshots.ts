// `npm run screenshots`: starts the API as `npm start` does (node apps/api/dist/main.js on the
// default data, a temporary cache folder), waits for /readyz and the configured models, opens
// each dashboard view in Debian's chromium at 1280×900, writes docs/dashboard-<view>.png and
// prints each view's time to its last chart (JSON on stdout).
//   node tools/dist/src/dashboard-screenshots.js [--runs N] [--no-shots] [--data FILE]
// --data times the views on another data set (e.g. the 100M Prize snapshot; RECSYS_MODEL_KIND and
// the other RECSYS_* variables of the environment pass through to the server).
import { mkdtempSync, rmSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Page } from 'playwright-core';
import { gql, log, REPO_ROOT, startServer } from '../bench/api-bench-server';

const CHROMIUM = '/usr/bin/chromium';
const VIEWPORT = { width: 1280, height: 900 };

/** Waits until the configured rating and ranking models serve (the Models view shows them). */
async function waitForConfiguredModels(base: string, timeoutSeconds: number): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const ready = (await (await fetch(`${base}/readyz`)).json()) as { configured: { status: string }; configuredRanking: { status: string }; status: string };
    const busy = [ready.configured.status, ready.configuredRanking.status].some((s) => s === 'RUNNING' || s === 'QUEUED');
    if (!busy) return;
    if (Date.now() > deadline) throw new Error(`the configured models were still training after ${timeoutSeconds} s: ${ready.status}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Opens a view afresh and returns the ms from navigation start to its last chart (main[data-ready]). */
async function openView(page: Page, base: string, hash: string): Promise<number> {
  await page.goto('about:blank');
  await page.goto(`${base}/dashboard${hash}`, { waitUntil: 'commit' });
  await page.waitForSelector('#main[data-ready="true"]', { timeout: 60_000 });
  const error = await page.$('#main .error');
  if (error) throw new Error(`${hash}: ${await error.textContent()}`);
  return Number(await page.getAttribute('#main', 'data-since-navigation'));
}

async function main(): Promise<void> {
  const runsAt = process.argv.indexOf('--runs');
  const runs = runsAt > 0 ? Number(process.argv[runsAt + 1]) : 3;
  const shots = !process.argv.includes('--no-shots');
  const dataAt = process.argv.indexOf('--data');
  const data = dataAt > 0 ? process.argv[dataAt + 1] : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'recsys-screenshots-'));
  const server = await startServer({ data, env: { RECSYS_CACHE_DIR: dir } }, dir, 600);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  try {
    await waitForConfiguredModels(server.base, 900);
    // A user with a few dozen ratings, and the movie at the top of their list.
    const { users } = await gql<{ users: { edges: Array<{ node: { id: number; ratingCount: number } }> } }>(`${server.base}/graphql`, '{ users(first: 100) { edges { node { id ratingCount } } } }');
    const user = users.edges.map((e) => e.node).find((u) => u.ratingCount >= 40 && u.ratingCount <= 200) ?? users.edges[0].node;
    const { recommendations } = await gql<{ recommendations: Array<{ movieId: number }> }>(`${server.base}/graphql`, `{ recommendations(userId: ${user.id}, n: 1) { movieId } }`);
    const movieId = recommendations[0].movieId;
    const views: Array<{ name: string; hash: string }> = [
      { name: 'data', hash: '#/data' },
      { name: 'models', hash: '#/models' },
      { name: 'training', hash: '#/training' },
      { name: 'movie', hash: `#/movie/${movieId}` },
      { name: 'user', hash: `#/user/${user.id}` },
    ];
    const context = await browser.newContext({ viewport: VIEWPORT });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    const times: Record<string, number[]> = {};
    for (const v of views) {
      times[v.name] = [];
      for (let i = 0; i < runs; i++) times[v.name].push(await openView(page, server.base, v.hash));
      log(`${v.name}: ${times[v.name].join(', ')} ms to the last chart`);
      if (!shots) continue;
      if (v.name === 'training') {
        // A retrain from the form (token typed in), its curve drawn live, then the picture.
        await page.selectOption('#kind', 'SVD');
        await page.fill('#token', server.token);
        await page.fill('#param-epochs', '20');
        await page.click('#retrain');
        await page.waitForSelector('#run-status[data-status="SUCCEEDED"], #run-status[data-status="FAILED"]', { timeout: 300_000 });
        const run = ((await page.textContent('#live-h')) ?? '').replace('Run ', '');
        await page.waitForSelector(`#past-runs td:text-is("${run}")`);
      }
      if (v.name === 'user') {
        await page.fill('#predict-movie', String(movieId));
        await page.press('#predict-movie', 'Enter');
        await page.waitForSelector('#prediction .prediction');
      }
      // Clicking scrolled the page: the picture shows its top.
      await page.evaluate('window.scrollTo(0, 0)');
      await page.screenshot({ path: join(REPO_ROOT, 'docs', `dashboard-${v.name}.png`) });
    }
    if (errors.length) throw new Error(`console errors: ${errors.join('; ')}`);
    const bundle = readFileSync(join(REPO_ROOT, 'apps/dashboard/dist/web/dashboard.js'));
    const summary = Object.fromEntries(Object.entries(times).map(([k, t]) => [k, { medianMs: [...t].sort((a, b) => a - b)[Math.floor(t.length / 2)], maxMs: Math.max(...t), runs: t }]));
    console.log(JSON.stringify({ viewport: VIEWPORT, user: user.id, movie: movieId, viewsMsSinceNavigation: summary, bundle: { bytes: statSync(join(REPO_ROOT, 'apps/dashboard/dist/web/dashboard.js')).size, gzipBytes: gzipSync(bundle, { level: 9 }).length } }, null, 2));
  } finally {
    await browser.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  console.error(error.stack ?? error.message);
  process.exitCode = 1;
});
