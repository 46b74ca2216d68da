import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { transparentHugePageMode } from '../bench/huge-pages';

// tools/with-huge-pages.sh: what `npm start`, `npm run recsys` and the bench:* scripts run under.
const SCRIPT = join(__dirname, '..', 'with-huge-pages.sh');

function run(code: string, env: Record<string, string | undefined>): { stdout: string; status: number | null } {
  const base: Record<string, string | undefined> = { ...process.env };
  delete base.GLIBC_TUNABLES;
  const r = spawnSync('sh', [SCRIPT, process.execPath, '-e', code], { env: { ...base, ...env } as NodeJS.ProcessEnv, encoding: 'utf8' });
  return { stdout: r.stdout.trim(), status: r.status };
}

/** glibc's version when this is glibc (Node reports it), else null. */
function glibcVersion(): number | null {
  const v = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime;
  return v ? Number(v) : null;
}

// A child that fills a 256 MB ArrayBuffer and prints its AnonHugePages (kB) from smaps_rollup.
const TOUCH = `
const a = new Uint8Array(256 << 20);
for (let i = 0; i < a.length; i += 4096) a[i] = 1;
const m = /AnonHugePages:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/smaps_rollup', 'utf8'));
console.log(m ? m[1] : -1);
`;

describe('tools/with-huge-pages.sh', () => {
  it('sets glibc.malloc.hugetlb=1 when GLIBC_TUNABLES is unset', () => {
    expect(run('console.log(process.env.GLIBC_TUNABLES)', {})).toEqual({ stdout: 'glibc.malloc.hugetlb=1', status: 0 });
  });

  it('keeps a GLIBC_TUNABLES already set, after its own, so the caller can turn it off', () => {
    const r = run('console.log(process.env.GLIBC_TUNABLES)', { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' });
    expect(r.stdout).toBe('glibc.malloc.hugetlb=1:glibc.malloc.hugetlb=0');
  });

  it("passes the command's arguments and exit code through", () => {
    expect(run('process.exitCode = 7', {}).status).toBe(7);
  });

  const mode = transparentHugePageMode();
  const glibc = glibcVersion();
  const canTell = mode === 'madvise' && glibc !== null && glibc >= 2.35 && existsSync('/proc/self/smaps_rollup');
  const why = canTell ? '' : ` (skipped: needs transparent huge pages in madvise mode and glibc >= 2.35; here ${mode ?? 'no THP'}, glibc ${glibc ?? 'absent'})`;
  (canTell ? it : it.skip)(`backs a large ArrayBuffer with huge pages, and none when turned off${why}`, () => {
    const on = Number(run(TOUCH, {}).stdout);
    const off = Number(run(TOUCH, { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' }).stdout);
    // At least half of the 256 MB in 2 MB pages (the kernel may not find a free huge page for every one).
    expect(on).toBeGreaterThanOrEqual(128 * 1024);
    expect(off).toBe(0);
  });
});
