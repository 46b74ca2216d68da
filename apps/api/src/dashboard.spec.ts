import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { browserForTests, describeWithBrowser, type BrowserSession } from '@recsys/testing';
import { dashboardRoutes } from './http/dashboard';
import { startTestApi, TestApi, TEST_TOKEN } from './testing/harness';

jest.setTimeout(60_000);

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(async () => {
  await t?.close();
});

describe('GET /dashboard', () => {
  it('serves the page with a strict Content-Security-Policy, its script and its stylesheet', async () => {
    const origin = new URL(t.api.url).origin;
    const page = await fetch(`${origin}/dashboard`);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe/);
    expect(csp).toContain(`connect-src 'self' ws://${new URL(origin).host}`);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const html = await page.text();
    expect(html).toContain('<script src="/dashboard/dashboard.js"');
    expect(html).not.toMatch(/<script>|<style>| style=/);
    const js = await fetch(`${origin}/dashboard/dashboard.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect((await js.text()).length).toBeGreaterThan(10_000);
    const css = await fetch(`${origin}/dashboard/dashboard.css`);
    expect(css.headers.get('content-type')).toMatch(/text\/css/);
  });

  it('answers 500 saying how to build when the bundle is missing', async () => {
    const app = express().use(dashboardRoutes('/nonexistent-recsys-dashboard'));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      for (const path of ['/dashboard', '/dashboard/dashboard.js']) {
        const res = await fetch(base + path);
        expect(res.status).toBe(500);
        expect(await res.text()).toMatch(/^dashboard bundle missing: run npm run build/);
      }
    } finally {
      server.close();
    }
  });
});

/** Marks drawn in the one chart titled `title` (or starting with it, when it ends with '…'): bars, dots, graph links, counted in the page. */
async function marks(s: BrowserSession, title: string): Promise<number> {
  return s.page.evaluate((title) => {
    const figures = [...document.querySelectorAll('#main figure')].filter((f) => {
      const shown = f.querySelector('.recsys-chart-title')?.textContent ?? '';
      return title.endsWith('…') ? shown.startsWith(title.slice(0, -1)) : shown === title;
    });
    if (figures.length !== 1) throw new Error(`${figures.length} charts titled "${title}"`);
    return figures[0].querySelectorAll('svg g.recsys-bar rect, svg g.recsys-point circle, svg g.recsys-link path').length;
  }, title);
}

async function open(s: BrowserSession, origin: string, hash: string): Promise<void> {
  const view = hash.split('/')[1];
  await s.page.goto(`${origin}/dashboard${hash}`, { waitUntil: 'load' });
  await s.page.waitForSelector(`#main[data-view="${view}"][data-ready="true"]`, { timeout: 20_000 });
  expect(await s.page.$('#main .error')).toBeNull();
}

describeWithBrowser('the dashboard in a browser', () => {
  let s: BrowserSession;
  let origin: string;
  const session = browserForTests(() => origin);
  beforeAll(() => {
    origin = new URL(t.api.url).origin;
    s = session();
  });

  it('data: a bar per scale value, a dot per distinct ratings count of users and of movies', async () => {
    await open(s, origin, '#/data');
    const m = t.dataset.matrix;
    // Independently of the API: the scale's values, and the distinct per-user and per-movie counts, by a plain loop.
    const scaleValues = Math.round((m.scale.max - m.scale.min) / m.scale.step) + 1;
    const userKs = new Set<number>();
    for (let u = 0; u < m.nUsers; u++) userKs.add(m.userCount(u));
    const movieKs = new Set<number>();
    for (let i = 0; i < m.nMovies; i++) movieKs.add(m.movieCount(i));
    expect(await marks(s, 'Rating histogram')).toBe(scaleValues);
    expect(await marks(s, 'Ratings per user')).toBe(userKs.size);
    expect(await marks(s, 'Ratings per movie')).toBe(movieKs.size);
    const counts = await s.page.textContent('#main table');
    expect(counts).toContain(m.nRatings.toLocaleString('en'));
    // Keyboard: the first Tab reaches the skip link, drawn with a focus ring; then the nav bar's links.
    await s.page.keyboard.press('Tab');
    const skip = await s.page.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      return { text: el.textContent, outline: getComputedStyle(el).outlineStyle };
    });
    expect(skip).toEqual({ text: 'Skip to content', outline: 'solid' });
    await s.page.keyboard.press('Tab');
    expect(await s.page.evaluate(() => document.activeElement?.getAttribute('href'))).toBe('#/data');
  });

  it('models: a bar per known held-out metric of every stored model, the active ones marked', async () => {
    await open(s, origin, '#/models');
    const r = await t.gql<{ models: { edges: Array<{ node: { id: string; role: string; metrics: Record<string, number | null> } }> }; activeModels: { rating: { id: string }; ranking: { id: string } } }>(
      '{ models(first: 100) { edges { node { id role metrics { heldOutRmse heldOutMae heldOutNdcg } } } } activeModels { rating { id } ranking { id } } }',
    );
    const nodes = r.data!.models.edges.map((e) => e.node);
    let ratingBars = 0;
    let rankingBars = 0;
    for (const n of nodes) {
      if (n.role === 'RATING') ratingBars += Number(n.metrics.heldOutRmse !== null) + Number(n.metrics.heldOutMae !== null);
      else rankingBars += Number(n.metrics.heldOutNdcg !== null);
    }
    expect(ratingBars).toBeGreaterThan(0);
    expect(await marks(s, 'Rating models: held-out RMSE and MAE')).toBe(ratingBars);
    if (nodes.some((n) => n.role === 'RANKING')) expect(await marks(s, 'Ranking models: held-out NDCG@10')).toBe(rankingBars);
    const rows = await s.page.$$eval('#main > table tbody tr', (trs) => trs.map((tr) => tr.textContent ?? ''));
    expect(rows).toHaveLength(nodes.length);
    const activeRating = rows.find((row) => row.startsWith(r.data!.activeModels.rating.id));
    expect(activeRating).toContain('active rating');
  });

  it('movie: its histogram, n bars per similarity metric linking to the neighbours, and the neighbourhood graph', async () => {
    const m = t.dataset.matrix;
    const movieId = m.movies.ids[m.mostRatedMovie()];
    await open(s, origin, `#/movie/${movieId}`);
    expect(await marks(s, 'Its ratings')).toBe(Math.round((m.scale.max - m.scale.min) / m.scale.step) + 1);
    for (const metric of ['JACCARD', 'COSINE', 'PEARSON', 'PEARSON_BASELINE', 'MODEL']) {
      const r = await t.gql<{ similarMovies: unknown[] }>(`{ similarMovies(movieId: ${movieId}, n: 10, metric: ${metric}) { movieId } }`);
      expect(r.data!.similarMovies.length).toBe(10);
      expect(await marks(s, `Most similar by ${metric}`)).toBe(10);
    }
    expect(await marks(s, 'Neighbourhood by JACCARD')).toBe(10);
    // Through to a neighbour by keyboard: its bar (an SVG link) takes the focus, Enter opens its own view.
    const first = await t.gql<{ similarMovies: Array<{ movieId: number }> }>(`{ similarMovies(movieId: ${movieId}, n: 1) { movieId } }`);
    const neighbour = first.data!.similarMovies[0].movieId;
    const focused = await s.page.evaluate((href) => {
      const link = [...document.querySelectorAll('#main svg a')].find((a) => (a.getAttribute('href') ?? a.getAttributeNS('http://www.w3.org/1999/xlink', 'href')) === href) as SVGAElement | undefined;
      link?.focus();
      return document.activeElement === link;
    }, `#/movie/${neighbour}`);
    expect(focused).toBe(true);
    await s.page.keyboard.press('Enter');
    await s.page.waitForFunction((id) => location.hash === `#/movie/${id}` && document.getElementById('main')!.dataset.ready === 'true', neighbour);

    // The nav bar's search: part of a title lists the matching movies (as movies(search:) does), each a link.
    const title = (await t.gql<{ movie: { title: string } }>(`{ movie(id: ${movieId}) { title } }`)).data!.movie.title;
    const part = title.slice(0, Math.min(5, title.length));
    const found = await t.gql<{ movies: { totalCount: number } }>('query($q: String!) { movies(search: $q, first: 1) { totalCount } }', { q: part });
    await s.page.fill('#movie-search-input', part);
    await s.page.press('#movie-search-input', 'Enter');
    await s.page.waitForSelector('#main[data-view="search"][data-ready="true"]');
    expect(await s.page.$$eval('#main tbody tr', (r) => r.length)).toBe(Math.min(50, found.data!.movies.totalCount));
    await s.page.click(`#main tbody a[href="#/movie/${movieId}"]`);
    await s.page.waitForFunction((id) => location.hash === `#/movie/${id}` && document.getElementById('main')!.dataset.ready === 'true', movieId);
  });

  it('user: a page of ratings, the recommendations with their explanations, and a prediction for a title typed in', async () => {
    const m = t.dataset.matrix;
    let u = 0;
    while (m.userCount(u) <= 20) u++;
    const userId = m.users.ids[u];
    // Opened from the nav bar's user field.
    await open(s, origin, '#/data');
    await s.page.fill('#user-lookup-input', String(userId));
    await s.page.press('#user-lookup-input', 'Enter');
    await s.page.waitForSelector('#main[data-view="user"][data-ready="true"]');
    expect(await s.page.textContent('#main h1')).toBe(`User ${userId}`);
    expect(await s.page.$$eval('#ratings-h + table tbody tr', (r) => r.length)).toBe(20);
    expect(await s.page.textContent('#ratings-h')).toContain(`(${m.userCount(u)})`);
    await s.page.click('section[aria-labelledby=ratings-h] button:has-text("Next")');
    await s.page.waitForFunction(() => (document.querySelector('.pager')?.textContent ?? '').includes('page 2 of'));
    expect(await s.page.$$eval('#ratings-h + table tbody tr', (r) => r.length)).toBe(Math.min(20, m.userCount(u) - 20));

    const recs = await t.gql<{ user: { recommendations: Array<{ explanation: unknown[] }> } }>(`{ user(id: ${userId}) { recommendations(n: 10) { explanation(n: 5) { movieId } } } }`);
    expect(await s.page.$$eval('#recs-h + table tbody tr', (r) => r.length)).toBe(recs.data!.user.recommendations.length);
    const explained = recs.data!.user.recommendations.filter((r) => r.explanation.length > 0);
    expect(await s.page.$$eval('section[aria-labelledby=recs-h] figure', (f) => f.length)).toBe(explained.length);

    // Type part of a title: the matches are offered, the chosen one is predicted with its explanation.
    const target = (await t.gql<{ movie: { title: string } }>(`{ movie(id: ${m.movies.ids[0]}) { title } }`)).data!.movie.title;
    const search = target.slice(0, Math.min(target.length, 6));
    await s.page.fill('#predict-movie', search);
    await s.page.press('#predict-movie', 'Enter');
    await s.page.waitForSelector('#prediction .prediction, #prediction ul.choices');
    if (await s.page.$('#prediction ul.choices')) await s.page.click(`#prediction ul.choices button:has-text("#${m.movies.ids[0]}")`);
    await s.page.waitForSelector('#prediction .prediction');
    const p = await t.gql<{ prediction: { rating: number; explanation: unknown[] } }>(`{ prediction(userId: ${userId}, movieId: ${m.movies.ids[0]}) { rating explanation(n: 10) { movieId } } }`);
    expect(await s.page.textContent('#prediction .prediction')).toContain(p.data!.prediction.rating.toFixed(2));
    if (p.data!.prediction.explanation.length > 0) expect(await marks(s, `Why ${p.data!.prediction.rating.toFixed(2)} for…`)).toBe(p.data!.prediction.explanation.length);
  });

  it('training: a retrain started from the form (token typed in) draws its curve live and ends SUCCEEDED', async () => {
    await open(s, origin, '#/training');
    await s.page.selectOption('#kind', 'SVD');
    await s.page.fill('#param-epochs', '30');
    // Without the token the mutation is refused, and the page says so.
    await s.page.fill('#token', '');
    await s.page.click('#retrain');
    await s.page.waitForSelector('#retrain-message .error');
    expect(await s.page.textContent('#retrain-message')).toContain('UNAUTHENTICATED');
    // A bound the server enforces: its message is shown.
    await s.page.fill('#token', TEST_TOKEN);
    await s.page.fill('#param-epochs', '0');
    await s.page.$eval('#retrain-form', (f) => f.setAttribute('novalidate', ''));
    await s.page.click('#retrain');
    await s.page.waitForFunction(() => (document.getElementById('retrain-message')?.textContent ?? '').includes('BAD_USER_INPUT'));
    expect(await s.page.textContent('#retrain-message')).toMatch(/epochs/);
    expect(await s.page.evaluate(() => sessionStorage.getItem('recsys.apiToken'))).toBe(TEST_TOKEN);
    expect(await s.page.evaluate(() => localStorage.length + document.cookie.length)).toBe(0);

    // Record the curve's points at every redraw of the live run.
    await s.page.evaluate(() => {
      const seen: number[] = [];
      (window as unknown as { curvePoints: number[] }).curvePoints = seen;
      new MutationObserver(() => {
        const fig = [...document.querySelectorAll('#live-run figure')].find((f) => (f.textContent ?? '').includes('Learning curve'));
        if (fig) seen.push([...fig.querySelectorAll('svg g.recsys-points circle title')].filter((t) => (t.textContent ?? '').startsWith('training RMSE:')).length);
      }).observe(document.getElementById('live-run')!, { childList: true, subtree: true });
    });
    await s.page.fill('#param-epochs', '30');
    await s.page.click('#retrain');
    await s.page.waitForSelector('#run-status[data-status="SUCCEEDED"], #run-status[data-status="FAILED"]', { timeout: 30_000 });
    expect(await s.page.textContent('#run-status')).toBe('SUCCEEDED');
    const seen = await s.page.evaluate(() => (window as unknown as { curvePoints: number[] }).curvePoints);
    const distinct = [...new Set(seen)];
    // Drawn while it ran (more than the first and the last state), never shrinking, ending at the run's 30 epochs.
    expect(distinct.length).toBeGreaterThan(2);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]);
    expect(seen[seen.length - 1]).toBe(30);
    // The finished run is among the past runs.
    const runId = (await s.page.textContent('#live-h'))!.replace('Run ', '');
    await s.page.waitForFunction((id) => (document.getElementById('past-runs')?.textContent ?? '').includes(id), runId);
  });
});
