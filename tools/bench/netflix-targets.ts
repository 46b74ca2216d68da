/**
 * The targets of issue 10 as `bench:netflix` reports them: each figure beside its bound, and the
 * README's table of them (`targetsMarkdown`), made from the benchmark's JSON so that the table
 * never holds a figure copied by hand. Imports nothing, so the specs and `--table-from` load it
 * without the benchmark's children.
 */

/** One figure beside its bound; `met` is null when the figure is missing or NaN. */
export interface Target {
  what: string;
  value: number | null;
  /** `<= 50 ms`, `>= 250 MB/s`: the comparison, the bound and its unit. */
  target: string;
  met: boolean | null;
}

export function target(what: string, value: number | null | undefined, op: '<=' | '>=', bound: number, unit: string): Target {
  const v = value ?? null;
  return { what, value: v, target: `${op} ${bound} ${unit}`, met: v === null || Number.isNaN(v) ? null : op === '<=' ? v <= bound : v >= bound };
}

/** What of a `bench:netflix` result the table reads (older results too: every field may be missing). */
export interface NetflixResultForTable {
  machine?: { cores?: number; cpu?: string; node?: string; loadAverageAtStart?: number };
  snapshot?: { ratings?: number; users?: number; movies?: number };
  targets?: Target[];
  seconds?: number;
}

/** A figure to four significant digits, without trailing zeros: 277.0071 → 277, 0.54099 → 0.541. */
export function figure(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return String(Number(value.toPrecision(4)));
}

const TARGET_PATTERN = /^(<=|>=) (\S+)(?: (.*))?$/;

/**
 * The result's targets as a markdown table (target, figure with its unit, bound, met), under one
 * line naming the data size, the threads, the machine, the load at the start, the run's length and
 * how many targets were met. Throws when the result has no targets, or a target string it cannot read.
 */
export function targetsMarkdown(result: NetflixResultForTable): string {
  const targets = result.targets;
  if (!Array.isArray(targets) || targets.length === 0) throw new Error('the result has no targets (was it made by bench:netflix?)');
  const count = (n: number | undefined): string => (n === undefined ? '?' : n.toLocaleString('en-US'));
  const { snapshot = {}, machine = {} } = result;
  const met = targets.filter((t) => t.met === true).length;
  const header =
    `${count(snapshot.ratings)} ratings, ${count(snapshot.users)} users, ${count(snapshot.movies)} movies; ` +
    `${machine.cores ?? '?'} threads (${machine.cpu ?? 'unknown CPU'}), Node ${machine.node ?? '?'}; ` +
    `load average ${machine.loadAverageAtStart ?? '?'} at the start; ` +
    `${result.seconds === undefined ? '?' : Math.round(result.seconds)} s in all; **${met} of ${targets.length}** targets met.`;
  const rows = targets.map((t) => {
    const parsed = TARGET_PATTERN.exec(t.target);
    if (!parsed) throw new Error(`target "${t.what}": cannot read its bound "${t.target}" (expected "<= N unit" or ">= N unit")`);
    const [, op, bound, unit = ''] = parsed;
    // A NaN figure is "not measured", as it reads once the result has been through JSON (null).
    const measured = t.value !== null && !Number.isNaN(t.value);
    const value = measured ? `${figure(t.value!)}${unit ? ` ${unit}` : ''}` : 'not measured';
    const verdict = t.met === null || !measured ? 'not measured' : t.met ? 'yes' : '**no**';
    const shownBound = Number.isFinite(Number(bound)) ? figure(Number(bound)) : bound;
    return `| ${t.what.replace(/\|/g, '\\|')} | ${value} | ${op === '<=' ? '≤' : '≥'} ${shownBound}${unit ? ` ${unit}` : ''} | ${verdict} |`;
  });
  return [header, '', '| target | figure | bound | met |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
