import 'reflect-metadata';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { buildRatingMatrix, generateSynthetic, WHOLE_STARS_1_TO_5 } from '@recsys/data';
import { fingerprintMatrix, saveModel, SvdModel } from '@recsys/models';
import { unsafeFileName } from './services/model-registry';
import { smallDataset, startTestApi } from './testing/harness';

jest.setTimeout(60_000);

/** A pino logger whose lines are kept (parsed) for the test to read. */
function capturingLogger(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe('files and paths (issue 9)', () => {
  it('a manifest entry is a plain file name inside the model directory', () => {
    for (const ok of ['svd-m3k2x1a0-9f3c.rmodel', 'a.b', 'x']) expect(unsafeFileName(ok)).toBeNull();
    for (const bad of ['../../victim.txt', '..', '../x', 'sub/x.rmodel', 'sub\\x.rmodel', '/etc/passwd', 'C:evil', 'a\u0000b', '', '.', 'x'.repeat(256), 42, null]) {
      expect({ bad, refused: unsafeFileName(bad) !== null }).toEqual({ bad, refused: true });
    }
  });

  it('refuses hostile manifest entries at startup (logging each), opens and deletes nothing outside, and trains a model instead', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'recsys-paths-'));
    try {
      const dataset = smallDataset();
      const base = fingerprintMatrix(dataset.matrix);
      const victim = join(dir, 'victim.txt');
      writeFileSync(victim, 'keep me');
      const models = join(dir, 'models');
      mkdirSync(models);
      const record = (id: string, file: string, trainedAt: string) => ({
        id,
        kind: 'svd',
        params: {},
        trainedAt,
        metrics: { trainRmse: 1, trainMae: 1, ratings: base.ratings, users: base.users, movies: base.movies, fitSeconds: 0 },
        fingerprint: base,
        baseCrc32: base.crc32,
        ratingsThroughId: 0,
        file,
        history: [],
        trainingRunId: null,
      });
      const hostile = ['../victim.txt', '/etc/passwd', 'sub/../../victim.txt', 'a\u0000b.rmodel', '..'];
      // Many of them, old: a retrain's clean-up of the oldest artifacts would delete them if they were kept.
      const entries = hostile.map((file, i) => record(`evil-${i}`, file, new Date(1000 + i).toISOString()));
      writeFileSync(join(models, 'manifest.json'), JSON.stringify({ activeId: 'evil-0', models: entries }));
      const { logger, lines } = capturingLogger();
      const t = await startTestApi({ dataset, dir, start: { logger } });
      try {
        const refused = lines.filter((l) => l.msg === 'model manifest entry refused: its file is not a plain file name inside the model directory');
        expect(refused.map((l) => (l.entry as { file: string }).file)).toEqual(hostile);
        const active = (await t.gql<{ activeModel: { id: string }; models: { totalCount: number } }>('{ activeModel { id } models { totalCount } }')).data!;
        expect(active.activeModel.id).toMatch(/^svd-/);
        // The configured svd and the stored popular (the ranking role's).
        expect(active.models.totalCount).toBe(2);
        // Retrains enough to prune: the refused entries are gone from the manifest, nothing outside was deleted.
        for (let i = 0; i < 8; i++) {
          const run = await t.gql<{ retrain: { id: string } }>('mutation { retrain(input: { kind: BASELINE }) { id } }');
          await t.api.services()!.training.waitFor(t.api.services()!.training.get(run.data!.retrain.id)!);
        }
        expect(readFileSync(victim, 'utf8')).toBe('keep me');
        const manifest = JSON.parse(readFileSync(join(models, 'manifest.json'), 'utf8')) as { models: Array<{ file: string }> };
        for (const m of manifest.models) expect(unsafeFileName(m.file)).toBeNull();
        // The six newest inactive models and the two active ones (rating and ranking).
        expect(manifest.models).toHaveLength(8);
      } finally {
        await t.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // A start and eight retrains: ~57 s on a busy 2-core machine, beside the file's 60 s.
  }, 150_000);

  it('an artifact trained on other data put under the active id is never served: a warning, and a new model is trained', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'recsys-fingerprint-'));
    try {
      const dataset = smallDataset();
      const first = await startTestApi({ dataset, dir });
      const activeId = (await first.gql<{ activeModel: { id: string } }>('{ activeModel { id } }')).data!.activeModel.id;
      await first.close();
      // A valid svd artifact, trained on other ratings of the same shape.
      const other = buildRatingMatrix(generateSynthetic({ ratings: 20_000, users: 500, movies: 300, seed: 8 }).list, WHOLE_STARS_1_TO_5).matrix;
      const artifact = join(dir, 'models', `${activeId}.rmodel`);
      expect(existsSync(artifact)).toBe(true);
      saveModel(artifact, await new SvdModel({ epochs: 2 }).fit(other));
      const { logger, lines } = capturingLogger();
      const second = await startTestApi({ dataset, dir, start: { logger } });
      try {
        const warning = lines.find((l) => l.msg === 'model artifact trained on other data than the data served: refused');
        expect(warning).toMatchObject({ model: activeId, artifactFingerprint: fingerprintMatrix(other) });
        const now = (await second.gql<{ activeModel: { id: string } }>('{ activeModel { id } }')).data!.activeModel.id;
        expect(now).not.toBe(activeId);
        // Asked for by id, it is not found rather than served.
        const named = await second.gql(`{ prediction(userId: ${dataset.matrix.users.ids[0]}, movieId: ${dataset.matrix.movies.ids[0]}, model: "${activeId}") { rating } }`);
        expect(named.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a 404 names no path of the machine, from the static files or elsewhere', async () => {
    const t = await startTestApi();
    try {
      const base = t.api.url.replace('/graphql', '');
      for (const path of ['/graphiql/graphiql/no-such-file.js', '/graphiql/react/../../../../etc/passwd', '/no/such/route']) {
        const res = await fetch(base + path);
        expect({ path, status: res.status }).toEqual({ path, status: 404 });
        const body = await res.text();
        expect(body).toBe(JSON.stringify({ errors: [{ message: 'not found', extensions: { code: 'NOT_FOUND' } }] }));
        expect(body).not.toContain(process.cwd());
      }
    } finally {
      await t.close();
    }
  });
});
