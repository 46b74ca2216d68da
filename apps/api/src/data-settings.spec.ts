import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, resolveConfig, usage } from './config';

jest.setTimeout(90_000);

const ROOT = resolve(__dirname, '../../..');
const MAIN = join(ROOT, 'apps/api/dist/main.js');

describe('data settings: format, columns and scale (issue 11)', () => {
  it('reads them from the flags, else from RECSYS_DATA_FORMAT, RECSYS_DATA_COLUMNS and RECSYS_DATA_SCALE', () => {
    expect(resolveConfig([], { RECSYS_DATA_FORMAT: 'interactions', RECSYS_DATA_COLUMNS: 'user,item,timestamp' })).toMatchObject({
      dataFormat: 'interactions',
      dataColumns: ['user', 'movie', 'timestamp'],
    });
    expect(resolveConfig([], { RECSYS_DATA_COLUMNS: 'user,movie,rating', RECSYS_DATA_SCALE: '1..10' })).toMatchObject({
      dataColumns: ['user', 'movie', 'rating'],
      dataScale: { min: 1, max: 10, step: 1 },
    });
    expect(resolveConfig(['--columns', 'movie,user,rating', '--scale', '0.5..5:0.5'], { RECSYS_DATA_COLUMNS: 'user,movie,rating', RECSYS_DATA_SCALE: '1..10' })).toMatchObject({
      dataColumns: ['movie', 'user', 'rating'],
      dataScale: { min: 0.5, max: 5, step: 0.5 },
    });
    const plain = resolveConfig([], {});
    expect([plain.dataFormat, plain.dataColumns, plain.dataScale]).toEqual([undefined, undefined, undefined]);
    expect(usage()).toContain('RECSYS_DATA_COLUMNS');
    expect(usage()).toContain('RECSYS_DATA_SCALE');
  });

  it('refuses a bad value with a ConfigError naming the variable or flag and the value', () => {
    expect(() => resolveConfig([], { RECSYS_DATA_FORMAT: 'clicks' })).toThrow(/^RECSYS_DATA_FORMAT must be one of .*interactions.*, got "clicks"$/);
    expect(() => resolveConfig([], { RECSYS_DATA_SCALE: '1..10:0.3' })).toThrow(new ConfigError('RECSYS_DATA_SCALE: scale "1..10:0.3": the step 0.3 is not a positive multiple of 0.5 (ratings are stored in half units)'));
    expect(() => resolveConfig(['--scale', '1..300'], {})).toThrow('--scale: scale "1..300": max 300 is above 127.5');
    expect(() => resolveConfig([], { RECSYS_DATA_COLUMNS: 'user,film' })).toThrow('RECSYS_DATA_COLUMNS: columns "user,film": "film" is not one of');
    expect(() => resolveConfig([], { RECSYS_DATA_FORMAT: 'movielens-100k', RECSYS_DATA_COLUMNS: 'user,movie,rating' })).toThrow(
      'data settings: columns apply to the interactions and ratings-csv formats, not to movielens-100k (its columns are fixed)',
    );
    expect(() => resolveConfig(['--format', 'interactions', '--scale', '1..10'], {})).toThrow('data settings: a scale is for rating data');
  });
});

(existsSync(MAIN) ? describe : describe.skip)('the server process with data settings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'recsys-data-settings-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the server until it logs "data loaded" (then stops it) or exits; its log lines, stderr and exit code. */
  function serve(env: Record<string, string>): Promise<{ code: number | null; stderr: string; loaded: Record<string, unknown> | null }> {
    const child = spawn(process.execPath, [MAIN], {
      cwd: ROOT,
      env: { ...process.env, RECSYS_LOG_LEVEL: 'info', RECSYS_CACHE_DIR: join(dir, 'cache'), PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let out = '';
    let loaded: Record<string, unknown> | null = null;
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (entry.msg === 'data loaded' && loaded === null) {
          loaded = entry;
          // This child only, by its own pid.
          child.kill('SIGKILL');
        }
      }
      out = out.slice(out.lastIndexOf('\n') + 1);
    });
    return new Promise((done) => child.once('exit', (code) => done({ code, stderr, loaded })));
  }

  it('serves a headerless 1–10 CSV with RECSYS_DATA_COLUMNS and RECSYS_DATA_SCALE', async () => {
    const file = join(dir, 'ten.csv');
    writeFileSync(file, '1,5,10\n2,5,1\n1,7,7\n3,7,4\n');
    const r = await serve({ RECSYS_DATA: file, RECSYS_DATA_COLUMNS: 'user,movie,rating', RECSYS_DATA_SCALE: '1..10' });
    expect(r.loaded).toMatchObject({ format: 'ratings-csv', ratings: 4, users: 3, movies: 2 });
  });

  it('exits 2 with one line for a bad RECSYS_DATA_SCALE, before reading any data', async () => {
    const r = await serve({ RECSYS_DATA: join(dir, 'none.csv'), RECSYS_DATA_SCALE: '10..1' });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('recsys-api: RECSYS_DATA_SCALE: scale "10..1": min 10 must be below max 1\n');
  });
});
