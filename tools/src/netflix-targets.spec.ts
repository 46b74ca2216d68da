import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFrom } from '../bench/netflix-bench';
import { figure, target, targetsMarkdown } from '../bench/netflix-targets';

describe('target', () => {
  it('meets a bound inclusively in its direction; a missing or NaN figure is neither met nor missed', () => {
    expect(target('a', 50, '<=', 50, 'ms')).toEqual({ what: 'a', value: 50, target: '<= 50 ms', met: true });
    expect(target('a', 50.01, '<=', 50, 'ms').met).toBe(false);
    expect(target('b', 250, '>=', 250, 'MB/s').met).toBe(true);
    expect(target('b', 249.9, '>=', 250, 'MB/s').met).toBe(false);
    expect(target('c', undefined, '<=', 1, '×')).toEqual({ what: 'c', value: null, target: '<= 1 ×', met: null });
    expect(target('c', Number.NaN, '<=', 1, '×').met).toBeNull();
  });
});

describe('figure', () => {
  it('keeps four significant digits and drops trailing zeros', () => {
    expect(figure(277.0071)).toBe('277');
    expect(figure(0.5409984)).toBe('0.541');
    expect(figure(13.78)).toBe('13.78');
    expect(figure(57.1)).toBe('57.1');
    expect(figure(4)).toBe('4');
    expect(figure(3.9634)).toBe('3.963');
    expect(figure(123456)).toBe('123500');
    expect(figure(Number.POSITIVE_INFINITY)).toBe('Infinity');
  });
});

describe('targetsMarkdown', () => {
  const result = {
    machine: { cores: 2, cpu: 'AMD EPYC', node: 'v20.19.0', loadAverageAtStart: 1.16 },
    snapshot: { ratings: 100_000_000, users: 480_189, movies: 17_770 },
    seconds: 790.4,
    targets: [
      target('import MB/s (Prize layout, all threads)', 277.0071, '>=', 250, 'MB/s'),
      target('svd ALS iteration ÷ SGD epoch, 100 factors, 2 threads', 3.9634, '<=', 3, '×'),
      target('svdpp final training RMSE is finite', 1, '>=', 1, ''),
      target('a | in a name', null, '<=', 50, 'ms'),
    ],
  };

  it('writes the header line and one row per target, figures with their units, misses in bold', () => {
    expect(targetsMarkdown(result)).toBe(
      [
        '100,000,000 ratings, 480,189 users, 17,770 movies; 2 threads (AMD EPYC), Node v20.19.0; load average 1.16 at the start; 790 s in all; **2 of 4** targets met.',
        '',
        '| target | figure | bound | met |',
        '| --- | --- | --- | --- |',
        '| import MB/s (Prize layout, all threads) | 277 MB/s | ≥ 250 MB/s | yes |',
        '| svd ALS iteration ÷ SGD epoch, 100 factors, 2 threads | 3.963 × | ≤ 3 × | **no** |',
        '| svdpp final training RMSE is finite | 1 | ≥ 1 | yes |',
        '| a \\| in a name | not measured | ≤ 50 ms | not measured |',
      ].join('\n'),
    );
  });

  it('shows a NaN figure as not measured (as after a JSON round trip) and a bound to four digits', () => {
    const table = targetsMarkdown({ targets: [target('nan', Number.NaN, '<=', 1, '×'), target('threads', 2.5, '>=', 3 * 0.8, 'threads')] });
    expect(table.split('\n').slice(-2)).toEqual(['| nan | not measured | ≤ 1 × | not measured |', '| threads | 2.5 threads | ≥ 2.4 threads | yes |']);
    expect(targetsMarkdown(JSON.parse(JSON.stringify({ targets: [target('nan', Number.NaN, '<=', 1, '×')] })))).toBe(
      targetsMarkdown({ targets: [target('nan', Number.NaN, '<=', 1, '×')] }),
    );
  });

  it('names what it cannot read: no targets, or a bound it cannot parse', () => {
    expect(() => targetsMarkdown({})).toThrow('the result has no targets (was it made by bench:netflix?)');
    expect(() => targetsMarkdown({ targets: [{ what: 'x', value: 1, target: 'at most 3', met: true }] })).toThrow(
      'target "x": cannot read its bound "at most 3" (expected "<= N unit" or ">= N unit")',
    );
  });

  it('--table-from reads an earlier result, naming the file when it is not JSON or not a result', () => {
    const dir = mkdtempSync(join(tmpdir(), 'netflix-targets-'));
    try {
      const good = join(dir, 'good.json');
      writeFileSync(good, JSON.stringify(result));
      expect(tableFrom(good)).toBe(targetsMarkdown(result));
      const broken = join(dir, 'broken.json');
      writeFileSync(broken, '{"targets": [');
      expect(() => tableFrom(broken)).toThrow(new RegExp(`^--table-from ${broken.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: .*JSON`));
      const list = join(dir, 'list.json');
      writeFileSync(list, '[]');
      expect(() => tableFrom(list)).toThrow(`--table-from ${list}: not a bench:netflix result (a JSON object)`);
      const none = join(dir, 'none.json');
      writeFileSync(none, '{"seconds": 3}');
      expect(() => tableFrom(none)).toThrow(`--table-from ${none}: the result has no targets`);
      expect(() => tableFrom(join(dir, 'missing.json'))).toThrow(`--table-from ${join(dir, 'missing.json')}: ENOENT`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
