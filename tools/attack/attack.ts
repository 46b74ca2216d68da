/**
 * The attack suite (`npm run attack`): the hostile and careless requests of issue 9 against a
 * server of our own, on loopback, bounded in count and time. It starts `apps/api/dist/main.js` as a
 * child process (PORT 0 on 127.0.0.1, a temporary cache directory, the default data; with
 * `--ratings N` a generated set of N ratings instead), runs each attack while a worker thread pings
 * the server (`{ ping }`) and samples its resident memory, and prints ONE JSON document:
 *
 *   { attacks: [{ name, outcome, detail, maxStallMs, peakRssMb, seconds }], maxStallMs, idlePingMs,
 *     peakRssMb, vmHwmMb, acknowledgedRatings, lostRatings, passed, failures, seconds }
 *
 * `outcome` is `refused` (an error with a code, an HTTP 4xx, a refused upgrade or a closed socket),
 * `answered` (an answer, and the server well afterwards), `harmful` (an internal error, a crash, a
 * model that should not have been activated, predictions broken), or `skipped`. `maxStallMs` is
 * the longest ping round trip during the attack: how long the event loop was held. `passed`: every
 * attack refused or answered, no stall over 100 ms, peak memory under 600 MB, no acknowledged
 * rating lost (kill -9 of the server while ratings are being acknowledged, then a restart).
 *
 *   npm run attack -- [--short] [--ratings N] [--only a,b] [--skip a,b] [--keep]
 *
 * `--short` runs a few quick attacks (the jest spec apps/api/src/attack.spec.ts uses it).
 * Progress goes to stderr; the exit code is 0 when `passed`, 1 otherwise.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildRatingMatrix, generateSynthetic, WHOLE_STARS_1_TO_5, writeSnapshot } from '@recsys/data';
// attack-env first: it parses the arguments (and exits on --help) before the temporary directory is made.
import { args, dir, env, log, MAX_RSS_MB, MAX_STALL_MS, only, skip, SUITE_BUDGET_MS } from './attack-env';
import { startServer, stopServer, vmHwmMb } from './attack-server';
import { AttackResult, gql, Outcome } from './attack-clients';
import { ATTACKS, Context } from './attack-cases';
import { mark, retarget, startProbe, stopProbe } from './attack-probe';

// ---- the run -----------------------------------------------------------------------------------

async function pickIds(url: string): Promise<{ userId: number; movieId: number }> {
  const r = await gql(url, '{ users(first: 50) { edges { node { id ratingCount } } } movies(first: 1) { edges { node { id } } } }');
  const users = (r.data!.users as { edges: Array<{ node: { id: number; ratingCount: number } }> }).edges.map((e) => e.node);
  const movies = (r.data!.movies as { edges: Array<{ node: { id: number } }> }).edges.map((e) => e.node);
  return { userId: users.sort((a, b) => b.ratingCount - a.ratingCount)[0].id, movieId: movies[0].id };
}

async function main(): Promise<void> {
  const started = performance.now();
  if (args.ratings !== undefined) {
    const ratings = Number(args.ratings);
    if (!Number.isInteger(ratings) || ratings < 1000) throw new Error(`--ratings must be an integer ≥ 1000, got "${args.ratings}"`);
    const data = generateSynthetic({ ratings, users: Math.max(50, Math.round(ratings / 40)), movies: Math.max(50, Math.round(ratings / 100)), seed: 9 });
    const path = join(dir, 'attack-data.rsnap');
    writeSnapshot(path, { matrix: buildRatingMatrix(data.list, WHOLE_STARS_1_TO_5).matrix, catalog: data.catalog });
    env.RECSYS_DATA = path;
  }
  log(`starting the server (${args.ratings ? `${args.ratings} generated ratings` : 'the default data'}, cache ${dir})`);
  const server = await startServer();
  log(`ready at ${server.url} (pid ${server.pid}) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  startProbe(server.url);
  await retarget(server);
  const ids = await pickIds(server.url);
  const ctx: Context = { server, ...ids, acknowledged: 0, lost: 0, windowStallMs: 0, windowRssMb: 0 };
  const results: AttackResult[] = [];
  const deadline = started + SUITE_BUDGET_MS;
  let vmHwm = 0;
  let idlePingMs = 0;
  try {
    await new Promise((r) => setTimeout(r, 300));
    const idle = await mark();
    idlePingMs = Math.round(idle.maxPingMs * 10) / 10;
    log(`idle: ping ${idle.maxPingMs.toFixed(1)} ms, rss ${idle.peakRssMb.toFixed(0)} MB`);
    for (const attack of ATTACKS) {
      const chosen = (only === null || only.has(attack.name)) && !skip.has(attack.name) && (!args.short || attack.short);
      if (!chosen || performance.now() > deadline) {
        if (only === null || only.has(attack.name)) results.push({ name: attack.name, outcome: 'skipped', detail: chosen ? 'suite time budget spent' : 'not chosen', maxStallMs: 0, peakRssMb: 0, seconds: 0 });
        continue;
      }
      await mark();
      ctx.windowStallMs = 0;
      ctx.windowRssMb = 0;
      const t0 = performance.now();
      let verdict: { outcome: Outcome; detail: string };
      try {
        verdict = await attack.run(ctx);
      } catch (error) {
        verdict = { outcome: 'harmful', detail: `the attack failed: ${error instanceof Error ? error.message : String(error)}`.slice(0, 300) };
      }
      // Let the server settle (a refused socket's close, the response's garbage) inside the window.
      await new Promise((r) => setTimeout(r, 200));
      const report = await mark();
      vmHwm = Math.max(vmHwm, vmHwmMb(ctx.server.pid));
      const result: AttackResult = {
        name: attack.name,
        ...verdict,
        maxStallMs: Math.round(Math.max(report.maxPingMs, ctx.windowStallMs) * 10) / 10,
        peakRssMb: Math.round(Math.max(report.peakRssMb, ctx.windowRssMb)),
        seconds: Math.round((performance.now() - t0) / 100) / 10,
      };
      results.push(result);
      log(`${result.name}: ${result.outcome} (${result.detail}); stall ${result.maxStallMs} ms, rss ${result.peakRssMb} MB, ${result.seconds} s`);
      if (ctx.server.child.exitCode !== null || ctx.server.child.signalCode !== null) {
        log('the server died; restarting it for the remaining attacks');
        ctx.server = await startServer();
        await retarget(ctx.server);
      }
    }
  } finally {
    vmHwm = Math.max(vmHwm, vmHwmMb(ctx.server.pid));
    await stopProbe();
    await stopServer(ctx.server.child);
    if (!args.keep) rmSync(dir, { recursive: true, force: true });
  }
  const ran = results.filter((r) => r.outcome !== 'skipped');
  const maxStallMs = Math.max(0, ...ran.map((r) => r.maxStallMs));
  const peakRssMb = Math.round(Math.max(vmHwm, ...ran.map((r) => r.peakRssMb)));
  const failures = [
    ...ran.filter((r) => r.outcome === 'harmful').map((r) => `${r.name}: harmful`),
    ...ran.filter((r) => r.maxStallMs > MAX_STALL_MS).map((r) => `${r.name}: stall ${r.maxStallMs} ms > ${MAX_STALL_MS}`),
    ...(peakRssMb >= MAX_RSS_MB ? [`peak memory ${peakRssMb} MB ≥ ${MAX_RSS_MB}`] : []),
    ...(ctx.lost > 0 ? [`${ctx.lost} acknowledged ratings lost`] : []),
  ];
  const report = {
    attacks: results,
    maxStallMs,
    /** The longest ping before any attack: what the machine's own load adds to every stall figure. */
    idlePingMs,
    peakRssMb,
    vmHwmMb: Math.round(vmHwm),
    acknowledgedRatings: ctx.acknowledged,
    lostRatings: ctx.lost,
    passed: failures.length === 0,
    failures,
    limits: { maxStallMs: MAX_STALL_MS, peakRssMb: MAX_RSS_MB },
    data: args.ratings ? `${args.ratings} generated ratings` : 'default',
    short: args.short,
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  process.exitCode = report.passed ? 0 : 1;
}

main().catch((error: unknown) => {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  if (!args.keep) rmSync(dir, { recursive: true, force: true });
  process.exit(2);
});
