import 'reflect-metadata';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrowserSession, describeWithBrowser, openBrowser } from '@recsys/testing';
import { exampleTabs, MAX_COMMENT_LINE, TOKEN_STORAGE_KEY } from './http/graphiql';
import { TRAINING_RUN_TOPIC } from './services/training-service';
import { startTestApi, TEST_TOKEN, TestApi } from './testing/harness';

jest.setTimeout(90_000);

describe('GraphiQL example tabs and GET /', () => {
  // The longest ids there are: the comment lines must fit with any.
  const tabs = exampleTabs({ movieId: 2_147_483_647, userId: 2_147_483_647 });
  const nameOf = (query: string) => /^(?:query|mutation|subscription) (\w+)/m.exec(query)?.[1];

  it(`every comment line of every tab is at most ${MAX_COMMENT_LINE} characters`, () => {
    const comments = tabs.flatMap((t) => t.query.split('\n').filter((line) => line.trimStart().startsWith('#')));
    expect(comments.length).toBeGreaterThan(15);
    for (const line of comments) expect([line, line.length <= MAX_COMMENT_LINE]).toEqual([line, true]);
  });

  it('the first tab names /dashboard; Progress is a subscription alone in its tab, with the note on one running operation; no tab sets a header', () => {
    expect(tabs[0].query).toMatch(/^# .*\/dashboard/);
    const progress = tabs.filter((t) => /^subscription /m.test(t.query));
    expect(progress).toHaveLength(1);
    expect(nameOf(progress[0].query)).toBe('Progress');
    expect(progress[0].query.match(/^(query|mutation|subscription) /gm)).toEqual(['subscription ']);
    expect(progress[0].query).toMatch(/one operation at a time/);
    expect(progress[0].query).toMatch(/\/dashboard/);
    expect(tabs.map((t) => nameOf(t.query))).toEqual(['SimilarMovies', 'Prediction', 'Recommendations', 'Retrain', 'Progress']);
    // The token comes from the bar's input: a tab's own Authorization header would override it.
    for (const t of tabs) expect(t.headers).toBeUndefined();
  });

  it('GET / links to /dashboard and to GraphiQL', async () => {
    const t = await startTestApi({ keepBaseline: true });
    try {
      const base = t.api.url.replace('/graphql', '');
      const res = await fetch(`${base}/`, { headers: { accept: 'text/html' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/html/);
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
      const html = await res.text();
      expect(html).toContain('href="/dashboard"');
      expect(html).toContain('href="/graphql"');
      // GraphiQL stays where it was.
      expect(await (await fetch(`${base}/graphql`, { headers: { accept: 'text/html' } })).text()).toContain('href="/dashboard"');
    } finally {
      await t.close();
    }
  });
});

describeWithBrowser('GraphiQL in a browser', () => {
  let t: TestApi;
  let session: BrowserSession | null = null;
  afterAll(async () => {
    await session?.close();
    await t?.close();
  });
  // Called while the tests are collected: its profile directory registers its own afterAll (after the one above).
  const opening = openBrowser();
  opening.catch(() => undefined);
  beforeAll(async () => {
    t = await startTestApi();
    session = await opening;
  });

  it('opens offline with the bar and the Headers pane, runs a query, and a retrain whose token comes from the bar', async () => {
    const { page } = session!;
    const origin = new URL(t.api.url).origin;
    const resultText = async () => (await page.textContent('.result-window')) ?? '';
    try {
      const violations: string[] = [];
      page.on('console', (m) => {
        if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
      });
      // Every answer of 400 and up, with what was asked. Right after a tab switch on a loaded
      // machine GraphiQL may send the new tab's document with the old tab's operationName, which
      // the server rightly answers 400 (seen in CI, also with the Run button's menu): that race is
      // GraphiQL's, and is the one 400 allowed below; any other error answer fails the test.
      const failed: Array<{ status: number; operationName: unknown; operations: string[] }> = [];
      page.on('response', (r) => {
        if (r.status() < 400) return;
        let body: { operationName?: unknown; query?: unknown } = {};
        try {
          body = JSON.parse(r.request().postData() ?? '{}') as typeof body;
        } catch {
          // Not a GraphQL request: its operationName stays undefined, so it is not excused.
        }
        const operations = typeof body.query === 'string' ? [...body.query.matchAll(/\b(?:query|mutation|subscription)\s+(\w+)/g)].map((m) => m[1]) : [];
        failed.push({ status: r.status(), operationName: body.operationName, operations });
      });
      const response = await page.goto(t.api.url, { waitUntil: 'load' });
      expect(response!.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
      await page.waitForSelector('.graphiql-execute-button', { timeout: 20_000 });
      expect(await page.getAttribute('#recsys-bar a', 'href')).toBe('/dashboard');
      // The Headers pane is open from the start (not the Variables pane, not collapsed).
      expect(await page.isVisible('.graphiql-editor-tools')).toBe(true);
      expect((await page.textContent('.graphiql-editor-tools button.active')) ?? '').toMatch(/Headers/);

      // The first tab: similar movies of the most-rated movie, checked against the API.
      await page.click('.graphiql-execute-button');
      await page.waitForFunction(() => (document.querySelector('.result-window')?.textContent ?? '').includes('"similarMovies"'), undefined, { timeout: 20_000 });
      const shown = await resultText();
      const movieId = Number(/"movie":\s*\{\s*"id":\s*(\d+)/.exec(shown)?.[1]);
      expect(Number.isInteger(movieId)).toBe(true);
      const expected = await t.gql<{ similarMovies: Array<{ movie: { title: string } }> }>('query($id: Int!) { similarMovies(movieId: $id, n: 10) { movie { title } } }', { id: movieId });
      for (const s of expected.data!.similarMovies.slice(0, 3)) expect(shown).toContain(s.movie.title);

      const tabs = await page.$$eval('.graphiql-tab', (els) => els.map((e) => e.textContent ?? ''));
      expect(tabs.join(' ')).toMatch(/SimilarMovies.*Prediction.*Recommendations.*Retrain.*Progress/);

      // In this 1280-pixel-wide window every comment line of every tab ends left of the Run button.
      for (const name of ['SimilarMovies', 'Prediction', 'Recommendations', 'Retrain', 'Progress']) {
        await page.click(`.graphiql-tab >> text=${name}`);
        await page.waitForSelector('.graphiql-query-editor .CodeMirror-line >> text=/^# /');
        const overflow = await page.evaluate(() => {
          const limit = document.querySelector('.graphiql-execute-button')!.getBoundingClientRect().left;
          const out: string[] = [];
          for (const line of document.querySelectorAll('.graphiql-query-editor .CodeMirror-line')) {
            const text = line.textContent ?? '';
            if (!text.startsWith('#')) continue;
            const range = document.createRange();
            range.selectNodeContents(line);
            if (range.getBoundingClientRect().right > limit) out.push(text);
          }
          return out;
        });
        expect([name, overflow]).toEqual([name, []]);
      }
      await page.click('.graphiql-tab >> text=SimilarMovies');

      // The Retrain tab without a token: refused.
      // Ctrl+Enter runs the operation under the cursor, but on a loaded machine GraphiQL may still
      // be settling after the tab switch: it drops the key, or sends the new tab's document with the
      // old tab's operationName (answered OPERATION_RESOLUTION_FAILURE, seen in CI). Press again
      // only while the page has sent no request naming Retrain (so a slow answer never starts a
      // second run).
      let retrainRequests = 0;
      page.on('request', (r) => {
        if (r.method() !== 'POST') return;
        try {
          if ((JSON.parse(r.postData() ?? '{}') as { operationName?: string }).operationName === 'Retrain') retrainRequests++;
        } catch {
          // Not a GraphQL request.
        }
      });
      const runRetrain = async () => {
        const before = retrainRequests;
        const line = '.graphiql-query-editor .CodeMirror-line >> text=mutation Retrain';
        await page.waitForSelector(line);
        for (let attempt = 0; attempt < 5 && retrainRequests === before; attempt++) {
          await page.click(line);
          // The Run button's menu names the operation (the tab holds two), where Ctrl+Enter after a
          // tab switch may still carry the old tab's operationName.
          await page.click('.graphiql-execute-button');
          await page.click('.graphiql-dropdown-item >> text=Retrain', { timeout: 3_000 }).catch(() => undefined);
          for (let i = 0; i < 60 && retrainRequests === before; i++) await new Promise((r) => setTimeout(r, 50));
        }
        expect(retrainRequests).toBe(before + 1);
      };
      await page.click('.graphiql-tab >> text=Retrain');
      await runRetrain();
      await page.waitForFunction(() => (document.querySelector('.result-window')?.textContent ?? '').includes('UNAUTHENTICATED'), undefined, { timeout: 20_000 });

      // The token typed in the bar (the tab's headers untouched): the same tab now starts a run.
      await page.fill('#recsys-token', TEST_TOKEN);
      expect(await page.evaluate((key) => sessionStorage.getItem(key), TOKEN_STORAGE_KEY)).toBe(TEST_TOKEN);
      await runRetrain();
      await page.waitForFunction(() => /"retrain":\s*\{\s*"id"/.test(document.querySelector('.result-window')?.textContent ?? ''), undefined, { timeout: 20_000 });
      const runId = /"id":\s*"([0-9a-f-]{36})"/.exec(await resultText())![1];
      let status = '';
      for (let i = 0; i < 3000 && status !== 'SUCCEEDED' && status !== 'FAILED'; i++) {
        status = (await t.gql<{ trainingRun: { status: string } }>('query($id: ID!) { trainingRun(id: $id) { status } }', { id: runId })).data!.trainingRun.status;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(status).toBe('SUCCEEDED');

      // The Progress tab: its subscription sees a run started elsewhere through to SUCCEEDED.
      await page.click('.graphiql-tab >> text=Progress');
      const progressLine = '.graphiql-query-editor .CodeMirror-line >> text=subscription Progress';
      await page.waitForSelector(progressLine);
      const pubsub = t.api.services()!.pubsub;
      for (let attempt = 0; attempt < 5 && pubsub.subscriberCount(TRAINING_RUN_TOPIC) === 0; attempt++) {
        await page.click(progressLine);
        await page.keyboard.press('Control+Enter');
        for (let i = 0; i < 40 && pubsub.subscriberCount(TRAINING_RUN_TOPIC) === 0; i++) await new Promise((r) => setTimeout(r, 25));
      }
      expect(pubsub.subscriberCount(TRAINING_RUN_TOPIC)).toBe(1);
      const run = await t.gql<{ retrain: { id: string } }>('mutation { retrain(input: { parameters: { epochs: 10 } }) { id } }');
      await page
        .waitForFunction((id) => {
          const text = document.querySelector('.result-window')?.textContent ?? '';
          return text.includes(id) && text.includes('SUCCEEDED');
        }, run.data!.retrain.id, { timeout: 30_000 })
        .catch(async (error: Error) => {
          await page.screenshot({ path: join(tmpdir(), 'recsys-graphiql-failure.png') });
          throw new Error(`${error.message}; result window: ${(await resultText()).slice(0, 500)}`);
        });
      expect(await resultText()).toContain('"trainRmse"');

      // The token stays for this browser tab's session: a reload keeps it.
      await page.reload({ waitUntil: 'load' });
      await page.waitForSelector('#recsys-token');
      expect(await page.inputValue('#recsys-token')).toBe(TEST_TOKEN);

      expect(session!.requested.some((u) => u.startsWith('ws://'))).toBe(true);
      expect(session!.foreignRequests(origin)).toEqual([]);
      // GraphiQL's race (see `failed`): a 400 for an operationName its document does not define.
      const raced = failed.filter((f) => f.status === 400 && typeof f.operationName === 'string' && f.operations.length > 0 && !f.operations.includes(f.operationName));
      expect(failed.filter((f) => !raced.includes(f))).toEqual([]);
      const resourceErrors = session!.errors.filter((e) => e === 'Failed to load resource: the server responded with a status of 400 (Bad Request)');
      expect(resourceErrors.length).toBe(raced.length);
      expect(session!.errors.filter((e) => !resourceErrors.includes(e))).toEqual([]);
      expect(violations).toEqual([]);
    } catch (error) {
      await page.screenshot({ path: join(tmpdir(), 'serve-graphiql-failure.png') }).catch(() => undefined);
      throw error;
    }
  });
});
