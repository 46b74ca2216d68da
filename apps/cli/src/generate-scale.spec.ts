import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { run } from './testing/run-cli';


const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'recsys-scale-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('recsys generate --scale', () => {
  it('writes a half-star snapshot that stats reads back with the 0.5 … 5 scale', async () => {
    const file = path.join(tmp, 'half.rsnap');
    const g = await run('generate', '--layout', 'snapshot', '--scale', 'half-stars', '--ratings', '5000', '--users', '100', '--movies', '200', '--out', file, '--json');
    expect(g.code).toBe(0);
    expect(JSON.parse(g.stdout)).toMatchObject({ layout: 'snapshot', scale: 'half-stars', ratings: 5000 });
    const s = await run('stats', '--data', file, '--json');
    expect(s.code).toBe(0);
    const stats = JSON.parse(s.stdout);
    expect(stats.scale).toEqual({ min: 0.5, max: 5, step: 0.5 });
    expect(stats.histogram.some((h: { rating: number }) => h.rating === 3.5)).toBe(true);
  });

  it('keeps whole stars by default', async () => {
    const file = path.join(tmp, 'whole.rsnap');
    expect((await run('generate', '--layout', 'snapshot', '--ratings', '5000', '--users', '100', '--movies', '200', '--out', file)).code).toBe(0);
    const stats = JSON.parse((await run('stats', '--data', file, '--json')).stdout);
    expect(stats.scale).toEqual({ min: 1, max: 5, step: 1 });
  });

  it('refuses half stars in the Kaggle and Prize layouts (whole stars only) with exit code 2', async () => {
    for (const layout of ['kaggle', 'prize', 'prize-per-movie']) {
      const r = await run('generate', '--layout', layout, '--scale', 'half-stars', '--ratings', '5000', '--out', path.join(tmp, layout));
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/half-stars needs --layout snapshot/);
      expect(fs.existsSync(path.join(tmp, layout))).toBe(false);
    }
    expect((await run('generate', '--scale', 'quarter-stars', '--ratings', '5000', '--out', path.join(tmp, 'q'))).code).toBe(2);
  });
});
