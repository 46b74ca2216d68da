import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openStore } from './services/store';
import { createLogger } from './logger';
import { startApi } from './server';
import { smallDataset, testConfig } from './testing/harness';

jest.setTimeout(60_000);

// A store file that cannot be opened, read or written at start stops the server with the file
// named (and what to do), and the file keeps every byte it had.

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'recsys-store-open-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The store's message for `file` with SQLite's `reason`. */
const refusal = (file: string, reason: string) =>
  `cannot open the rating store ${file}: ${reason} (the file is left as it is: repair it, restore a backup, or move it away to start with an empty store; RECSYS_DB sets another path)`;

/** Starts the API on the store `file`: answers why it did not get ready (it is closed again). */
async function startupFailure(file: string): Promise<string> {
  const api = await startApi(testConfig(dir, { dbPath: file }), { loadData: async () => smallDataset(), logger: createLogger('silent') });
  try {
    await api.ready;
    return 'ready';
  } catch (error) {
    return (error as Error).message;
  } finally {
    await api.close();
  }
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** The SQLite store `file` (its manifest in `<dir>/models`). */
const open = (file: string) => openStore({ sqlitePath: file, modelDir: join(dir, 'models'), baseCrc32: '00000000', logger: createLogger('silent') });

/** A store with one rating and one finished run, closed. */
async function storeWithData(file: string): Promise<void> {
  const store = await open(file);
  await store.add(7, 3, 4);
  await store.saveRun('run-1', { id: 'run-1', status: 'SUCCEEDED', kind: 'baseline', updatedAt: '2026-01-01T00:00:00.000Z' });
  await store.saveEpoch('run-1', 1, { epoch: 1, epochs: 1, trainRmse: 0.9, seconds: 0.1 });
  await store.close();
}

describe('a rating store that cannot be opened at start', () => {
  it('a file that is not a database: the error names it, and the server does not start; the file is unchanged', async () => {
    const file = join(dir, 'store.sqlite');
    // Bytes that are not SQLite's (a header of something else, then noise from a fixed pattern).
    const bytes = Buffer.alloc(8192);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + 7) & 0xff;
    writeFileSync(file, bytes);
    await expect(open(file)).rejects.toThrow(refusal(file, 'file is not a database'));
    expect(await startupFailure(file)).toBe(refusal(file, 'file is not a database'));
    expect(readFileSync(file).equals(bytes)).toBe(true);
  });

  it('a run row whose JSON is damaged: the error names the file and the run; nothing is rewritten', async () => {
    const file = join(dir, 'store.sqlite');
    await storeWithData(file);
    const db = new Database(file);
    db.prepare("UPDATE training_runs SET state = '{\"id\": \"run-1\", trunc' WHERE id = 'run-1'").run();
    db.close();
    const before = readFileSync(file);
    expect(await startupFailure(file)).toMatch(new RegExp(`^cannot open the rating store ${escapeRe(file)}: the state of training run run-1 is not valid JSON \\(`));
    // Nothing written: the run, its epoch and the rating are all still there.
    expect(readFileSync(file).equals(before)).toBe(true);
    const check = new Database(file, { readonly: true });
    expect(check.prepare('SELECT COUNT(*) AS n FROM ratings').get()).toEqual({ n: 1 });
    expect(check.prepare('SELECT COUNT(*) AS n FROM training_run_epochs').get()).toEqual({ n: 1 });
    check.close();
  });

  it('a run row damaged while the store is open: runInProgress names the file and the run, as runs() does', async () => {
    const file = join(dir, 'store.sqlite');
    await storeWithData(file);
    const store = await open(file);
    try {
      expect(await store.runInProgress()).toBeNull();
      await store.saveRun('run-2', { id: 'run-2', status: 'RUNNING', kind: 'svd' });
      expect((await store.runInProgress())?.id).toBe('run-2');
      const db = new Database(file);
      db.prepare("UPDATE training_runs SET state = '{\"id\": \"run-2\", trunc' WHERE id = 'run-2'").run();
      db.close();
      const damaged = new RegExp(`^cannot open the rating store ${escapeRe(file)}: the state of training run run-2 is not valid JSON \\(`);
      await expect(store.runInProgress()).rejects.toThrow(damaged);
      await expect(store.runs()).rejects.toThrow(damaged);
    } finally {
      await store.close();
    }
  });

  it('a path whose folder is a file: the error names the path', async () => {
    const blocker = join(dir, 'plain-file');
    writeFileSync(blocker, 'x');
    const file = join(blocker, 'store.sqlite');
    await expect(open(file)).rejects.toThrow(new RegExp(`^cannot open the rating store ${escapeRe(file)}: (EEXIST|ENOTDIR)`));
  });

  it('a write-protected file: refused at open (not at the first rating), named, and unchanged', async () => {
    const file = join(dir, 'store.sqlite');
    await storeWithData(file);
    const before = readFileSync(file);
    // Write protection that holds for root too: the immutable attribute (chattr +i); for other
    // users a read-only mode is enough.
    const root = process.getuid?.() === 0;
    try {
      if (root) execFileSync('chattr', ['+i', file], { stdio: 'ignore' });
      else execFileSync('chmod', ['0444', file]);
    } catch {
      console.log('store-open.spec: skipped the write-protected case: chattr +i is not allowed here (root without CAP_LINUX_IMMUTABLE)');
      return;
    }
    try {
      await expect(open(file)).rejects.toThrow(refusal(file, 'attempt to write a readonly database'));
    } finally {
      execFileSync(root ? 'chattr' : 'chmod', root ? ['-i', file] : ['0644', file]);
    }
    expect(readFileSync(file).equals(before)).toBe(true);
    // Writable again: it opens with its rating and its run.
    const store = await open(file);
    expect(store.list().map((r) => [r.userId, r.movieId, r.rating])).toEqual([[7, 3, 4]]);
    expect((await store.runs()).map((r) => [r.id, r.epochs.length])).toEqual([['run-1', 1]]);
    await store.close();
  });
});
