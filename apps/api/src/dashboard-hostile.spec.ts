import 'reflect-metadata';
import { request } from 'node:http';
import { browserForTests, describeWithBrowser } from '@recsys/testing';
import { smallDataset, startTestApi, TestApi } from './testing/harness';

jest.setTimeout(90_000);

// The dashboard's doors, tried with hostile and absurd input: addresses no view answers, ids no
// API takes, text that is HTML. Each shows a clear message in the page (never a blank page or a
// console error), and no text is ever inserted as HTML.

/** Titles that would run script if any view inserted text as HTML. */
const HOSTILE_TITLES = ['<img src=x onerror="window.__xss=1">', '<script>window.__xss=2</script>', '"><svg onload="window.__xss=3"></svg>'];

const dataset = smallDataset();
const m = dataset.matrix;
// The three most-rated movies get the hostile titles: they are in every list (similar movies,
// recommendations, the search), so every view draws them.
const byCount = Array.from({ length: m.nMovies }, (_, i) => i).sort((a, b) => m.movieCount(b) - m.movieCount(a));
const hostileIds = HOSTILE_TITLES.map((title, k) => {
  const id = m.movies.ids[byCount[k]];
  dataset.catalog.set({ id, title, year: 2001, genres: [] });
  return id;
});

let t: TestApi;
let origin: string;
beforeAll(async () => {
  t = await startTestApi({ dataset });
  origin = new URL(t.api.url).origin;
});
afterAll(async () => {
  await t?.close();
});

/** A raw GET of `path` exactly as given (fetch would resolve `..` before sending): status and body. */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  const url = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('GET /dashboard/… serves its three files and nothing else', () => {
  it('paths that climb out of /dashboard, name the package files or carry NULs are 404; a long query string is ignored; one too long for a header is 431', async () => {
    const page = (await rawGet('/dashboard')).body;
    const script = (await rawGet('/dashboard/dashboard.js')).body;
    expect(script.length).toBeGreaterThan(10_000);
    for (const path of [
      '/dashboard/../package.json',
      '/dashboard/%2e%2e/package.json',
      '/dashboard/%2e%2e%2fpackage.json',
      '/dashboard/..%2f..%2fpackage.json',
      '/dashboard/package.json',
      '/dashboard/src/dashboard.css',
      '/dashboard/dist/web/dashboard.js',
      '/dashboard/dashboard.js.map',
      '/dashboard/dashboard.js%00.css',
      '/dashboard//dashboard.js',
      '/dashboard/main.ts',
    ]) {
      const r = await rawGet(path);
      expect([path, r.status, r.body]).toEqual([path, 404, '{"errors":[{"message":"not found","extensions":{"code":"NOT_FOUND"}}]}']);
    }
    const long = 'x'.repeat(8_000);
    expect(await rawGet(`/dashboard/dashboard.js?q=${long}&a[b][c]=1`)).toEqual({ status: 200, body: script });
    expect(await rawGet(`/dashboard?q=${long}`)).toEqual({ status: 200, body: page });
    expect((await rawGet(`/dashboard/dashboard.js?q=${'x'.repeat(20_000)}`)).status).toBe(431);
  });
});

describeWithBrowser('the dashboard with hostile addresses and titles', () => {
  const session = browserForTests(() => origin);

  /** Opens the page at `hash`; answers the view drawn, the alert shown (null when none) and the heading. */
  async function show(hash: string): Promise<{ view: string; alert: string | null; h1: string | null }> {
    // From a blank page each time: a new load, never a same-document hash change whose old view could still be read.
    await session().page.goto('about:blank');
    await session().page.goto(`${origin}/dashboard${hash}`, { waitUntil: 'load' });
    await session().page.waitForSelector('#main[data-ready="true"]', { timeout: 20_000 });
    return session().page.evaluate(() => ({
      view: document.getElementById('main')!.dataset.view!,
      alert: document.querySelector('#main [role="alert"]')?.textContent ?? null,
      h1: document.querySelector('#main h1')?.textContent ?? null,
    }));
  }

  it('ids no view takes: a message saying what and which ids there are, before any request', async () => {
    const range = 'an integer in 0..2147483647';
    const cases: Array<[string, string]> = [
      ['#/movie/abc', `movie id must be ${range}, got "abc"`],
      ['#/movie/-1', `movie id must be ${range}, got "-1"`],
      ['#/movie/99999999999', `movie id must be ${range}, got "99999999999"`],
      ['#/movie/2147483648', `movie id must be ${range}, got "2147483648"`],
      ['#/movie/0x10', `movie id must be ${range}, got "0x10"`],
      ['#/movie/', `no movie id in the address: open #/movie/ID with ${range}`],
      ['#/user/1e309', `user id must be ${range}, got "1e309"`],
      ['#/user/99999999999', `user id must be ${range}, got "99999999999"`],
    ];
    for (const [hash, message] of cases) {
      const before = session().requested.length;
      expect([hash, await show(hash)]).toEqual([hash, { view: hash.split('/')[1], alert: message, h1: null }]);
      // Refused in the page: the only requests are the page's own files.
      expect(session().requested.slice(before).filter((u) => u.endsWith('/graphql'))).toEqual([]);
    }
    // An id in range that names no movie: the server's NOT_FOUND, shown.
    let unknown = 2_000_000_000;
    while (m.movies.has(unknown) || dataset.catalog.has(unknown)) unknown++;
    expect((await show(`#/movie/${unknown}`)).alert).toBe(`NOT_FOUND: movie ${unknown} not found`);
  });

  it('routes no view answers, and search text that is empty, malformed or 10,000 characters long', async () => {
    expect(await show('#/nothing')).toEqual({ view: 'nothing', alert: 'no view "nothing" in the address #/nothing', h1: 'No such view' });
    // Names that every object has (the routes table must not answer them).
    for (const name of ['constructor', 'toString', '__proto__']) expect((await show(`#/${name}`)).alert).toBe(`no view "${name}" in the address #/${name}`);
    expect(await show('#/search/')).toEqual({ view: 'search', alert: 'no search text: type part of a title (or an id) in the Movie field above', h1: 'Movie search' });
    expect((await show('#/search/%E0%A4%A')).alert).toBe('the search in the address is not valid percent-encoding (a % not followed by two hex digits of UTF-8): "%E0%A4%A"');
    const long = 'q'.repeat(10_000);
    const shown = await show(`#/search/${long}`);
    expect(shown).toEqual({ view: 'search', alert: null, h1: `Movies matching “${long}”` });
    expect(await session().page.textContent('#main p')).toBe('0 found.');
    // No route at all, and an in-page anchor: the data view.
    expect((await show('')).view).toBe('data');
    expect((await show('#main')).view).toBe('data');
  });

  it('the skip link moves the focus to the view and leaves its route in place', async () => {
    const id = hostileIds[0];
    await show(`#/movie/${id}`);
    await session().page.keyboard.press('Tab');
    expect(await session().page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await session().page.keyboard.press('Enter');
    expect(await session().page.evaluate(() => [location.hash, document.activeElement?.id, document.getElementById('main')!.dataset.view])).toEqual([`#/movie/${id}`, 'main', 'movie']);
  });

  it('titles holding HTML are shown as text in every view, and never run', async () => {
    const hostileCount = () =>
      session().page.evaluate(() => ({
        xss: (window as unknown as { __xss?: number }).__xss ?? null,
        // Elements the titles would create if inserted as HTML.
        injected: document.querySelectorAll('#main img, #main script, #main svg[onload], #main [onerror]').length,
      }));
    for (const [k, id] of hostileIds.entries()) {
      const shown = await show(`#/movie/${id}`);
      expect(shown).toEqual({ view: 'movie', alert: null, h1: `${HOSTILE_TITLES[k]} (2001)` });
      expect(await hostileCount()).toEqual({ xss: null, injected: 0 });
    }
    // The search finds each by its markup, listed as text in a link.
    for (const title of HOSTILE_TITLES) {
      await show(`#/search/${encodeURIComponent(title)}`);
      const links = await session().page.$$eval('#main tbody a', (as) => as.map((a) => a.textContent));
      expect(links).toContain(`${title} (2001)`);
      expect(await hostileCount()).toEqual({ xss: null, injected: 0 });
    }
    // A user whose recommendations and similar lists hold them: the tables and the charts' labels show the text.
    // (The ranking model of the specs is popular: a user who has not rated the most-rated movie gets it recommended.)
    const first = m.movies.indexOf(hostileIds[0]);
    let u = 0;
    while (m.userCount(u) <= 20 || !Number.isNaN(m.rating(u, first))) u++;
    await show(`#/user/${m.users.ids[u]}`);
    expect(await session().page.$$eval('#recs-h + table tbody a', (as) => as.map((a) => a.textContent))).toContain(`${HOSTILE_TITLES[0]} (2001)`);
    expect(await hostileCount()).toEqual({ xss: null, injected: 0 });
    // The data and models views (no titles) and the movie view of a neighbour still draw.
    await show('#/data');
    expect(await hostileCount()).toEqual({ xss: null, injected: 0 });
  });
});
