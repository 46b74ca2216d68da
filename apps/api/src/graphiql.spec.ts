import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { tempDir } from '@recsys/testing';
import { TRAINING_RUN_TOPIC } from './services/training-service';
import { startTestApi, TestApi } from './testing/harness';

jest.setTimeout(60_000);

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.log(`graphiql.spec: skipped the browser test because ${CHROMIUM} is not installed (.ci/run installs Debian's chromium with apt-get)`);

(haveChromium ? describe : describe.skip)('GraphiQL in a browser', () => {
  let t: TestApi;

  beforeAll(async () => {
    t = await startTestApi();
  });
  afterAll(async () => {
    await t?.close();
  });
  const profile = tempDir('recsys-chromium-');

  it('opens offline from the local server, runs the similar-movies tab and shows the result', async () => {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const requested: string[] = [];
    const origin = new URL(t.api.url).origin;
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      page.on('request', (r) => requested.push(r.url()));
      page.on('websocket', (ws) => requested.push(ws.url()));
      // The page's Content-Security-Policy (script-src 'self', frame-ancestors 'none', …) must not block GraphiQL.
      const violations: string[] = [];
      page.on('console', (m) => {
        if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
      });
      const response = await page.goto(t.api.url, { waitUntil: 'load' });
      expect(response!.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
      await page.waitForSelector('.graphiql-execute-button', { timeout: 20_000 });
      // The first tab holds the similar-movies example with the most-rated movie as its variable.
      await page.click('.graphiql-execute-button');
      await page.waitForFunction(() => (document.querySelector('.result-window')?.textContent ?? '').includes('"similarMovies"'), undefined, { timeout: 20_000 });
      const shown = (await page.textContent('.result-window')) ?? '';

      // The tab asks for movie(id) first, then its similar movies: check them against the API.
      const movieId = Number(/"movie":\s*\{\s*"id":\s*(\d+)/.exec(shown)?.[1]);
      expect(Number.isInteger(movieId)).toBe(true);
      const expected = await t.gql<{ similarMovies: Array<{ movie: { title: string } }> }>('query($id: Int!) { similarMovies(movieId: $id, n: 10) { movie { title } } }', { id: movieId });
      for (const s of expected.data!.similarMovies.slice(0, 3)) expect(shown).toContain(s.movie.title);
      expect(shown).toContain('"similarity"');

      const tabs = await page.$$eval('.graphiql-tab', (els) => els.map((e) => e.textContent ?? ''));
      expect(tabs.join(' ')).toMatch(/SimilarMovies/);
      expect(tabs.join(' ')).toMatch(/Prediction/);
      expect(tabs.join(' ')).toMatch(/Retrain/);

      // The retrain tab: run its Progress subscription (over graphql-ws), retrain, watch it finish.
      await page.click('.graphiql-tab >> text=Retrain');
      const progressLine = '.graphiql-query-editor .CodeMirror-line >> text=subscription Progress';
      await page.waitForSelector(progressLine);
      // Ctrl+Enter runs the operation under the cursor; the editor may still be settling after the
      // tab switch, so place the cursor and run again until the server sees the subscription.
      const pubsub = t.api.services()!.pubsub;
      for (let attempt = 0; attempt < 5 && pubsub.subscriberCount(TRAINING_RUN_TOPIC) === 0; attempt++) {
        await page.click(progressLine);
        await page.keyboard.press('Control+Enter');
        for (let i = 0; i < 40 && pubsub.subscriberCount(TRAINING_RUN_TOPIC) === 0; i++) await new Promise((r) => setTimeout(r, 25));
      }
      expect(pubsub.subscriberCount(TRAINING_RUN_TOPIC)).toBe(1);
      // 10 epochs: with fewer, svd does not beat baseline on this data and the guard fails the run (issue 9).
      const run = await t.gql<{ retrain: { id: string } }>('mutation { retrain(input: { parameters: { epochs: 10 } }) { id } }');
      await page
        .waitForFunction(() => (document.querySelector('.result-window')?.textContent ?? '').includes('SUCCEEDED'), undefined, { timeout: 20_000 })
        .catch(async (error: Error) => {
          await page.screenshot({ path: join(tmpdir(), 'recsys-graphiql-failure.png') });
          throw new Error(`${error.message}; result window: ${(await page.textContent('.result-window'))?.slice(0, 500)}`);
        });
      const progress = (await page.textContent('.result-window')) ?? '';
      expect(progress).toContain(run.data!.retrain.id);
      expect(progress).toContain('"trainRmse"');

      expect(requested.length).toBeGreaterThan(3);
      expect(requested.some((u) => u.startsWith('ws://'))).toBe(true);
      const foreign = requested.filter((u) => !(u.startsWith(origin) || u.startsWith(origin.replace('http', 'ws')) || u.startsWith('data:') || u.startsWith('blob:')));
      expect(foreign).toEqual([]);
      expect(violations).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
