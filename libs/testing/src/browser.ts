import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's chromium (apt-get install chromium; .ci/run installs it): never a test tool's own download. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Whether browser tests can run here. */
export const haveChromium = existsSync(CHROMIUM_PATH);

/**
 * `describe` when chromium is installed, else `describe.skip` after saying plainly why (in CI,
 * .ci/run installs it, so a skip there means the install failed and is visible in the log).
 */
export function describeWithBrowser(name: string, body: () => void): void {
  if (!haveChromium) {
    console.log(`${name}: skipped the browser tests because ${CHROMIUM_PATH} is not installed (.ci/run installs Debian's chromium with apt-get)`);
    describe.skip(name, body);
    return;
  }
  describe(name, body);
}

/** A page and everything it did: requested URLs (HTTP and WebSocket), console errors, page errors. */
export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** Every URL the page requested, WebSocket URLs included. */
  requested: string[];
  /** console.error messages and uncaught page errors. */
  errors: string[];
  /** Requested URLs that are neither `origin` (http and ws) nor data:/blob:/about: (empty: nothing left the machine). */
  foreignRequests(origin: string): string[];
  close(): Promise<void>;
}

/**
 * Opens headless chromium on a fresh profile with its background networking off (no update,
 * sync or safe-browsing requests), so every request seen comes from the page under test.
 */
export async function openBrowser(options: { width?: number; height?: number } = {}): Promise<BrowserSession> {
  // A profile folder of its own, removed by close(): openBrowser runs inside beforeAll, where
  // tempDir (which registers an afterAll hook) cannot be called.
  const profile = mkdtempSync(join(tmpdir(), 'recsys-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const requested: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => requested.push(r.url()));
  page.on('websocket', (ws) => requested.push(ws.url()));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  return {
    context,
    page,
    requested,
    errors,
    foreignRequests: (origin) => {
      const ws = origin.replace(/^http/, 'ws');
      return requested.filter((u) => !(u.startsWith(origin) || u.startsWith(ws) || /^(data|blob|about):/.test(u)));
    },
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

/**
 * Inside a describe: one browser for its tests (opened before them, closed after), and after
 * each test the checks every browser test makes: no console error, no request but to `origin()`.
 * Returns the session's getter (the session exists once the tests run).
 */
export function browserForTests(origin: () => string, options: { width?: number; height?: number } = {}): () => BrowserSession {
  let session: BrowserSession | undefined;
  beforeAll(async () => {
    session = await openBrowser(options);
  });
  afterAll(async () => {
    await session?.close();
  });
  afterEach(() => {
    expect(session!.errors).toEqual([]);
    expect(session!.foreignRequests(origin())).toEqual([]);
  });
  return () => session!;
}
