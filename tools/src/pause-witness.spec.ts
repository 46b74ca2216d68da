import { spawn } from 'node:child_process';
import { startPauseWitness, WITNESS_LOOP } from '../bench/pause-witness';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('pause witness', () => {
  it('does not count a busy event loop of its own process: it sleeps on its own thread', async () => {
    const witness = startPauseWitness(5);
    await sleep(50);
    // The main thread busy for 300 ms (what a server's long stall looks like from inside).
    const until = performance.now() + 300;
    while (performance.now() < until) {
      // spin
    }
    await sleep(50);
    const reading = await witness.stop();
    // About 400 ms of 5 ms sleeps; none of them held up by the spin (a loose bound: the machine is shared).
    expect(reading.sleeps).toBeGreaterThan(20);
    expect(reading.maxLatenessMs).toBeLessThan(150);
  });

  it('sees a paused process: the loop stopped (SIGSTOP) for 400 ms oversleeps by about that much', async () => {
    // The same loop in a child process, which this test stops and continues.
    const script = `${WITNESS_LOOP}
const control = new Int32Array(new SharedArrayBuffer(4));
const result = new Float64Array(new SharedArrayBuffer(16));
setTimeout(() => {}, 0);
process.stdout.write('ready\\n');
const { Worker } = require('node:worker_threads');
// Stop after 1.2 s from another thread; the loop runs on this one.
new Worker('const { workerData } = require("node:worker_threads"); const c = new Int32Array(workerData); Atomics.wait(c, 0, 0, 1200); Atomics.store(c, 0, 1); Atomics.notify(c, 0);', { eval: true, workerData: control.buffer });
witness(control, result, 5);
process.stdout.write(JSON.stringify({ max: result[0], sleeps: result[1] }) + '\\n');
process.exit(0);`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    while (!out.includes('ready')) await sleep(10);
    await sleep(200);
    child.kill('SIGSTOP');
    await sleep(400);
    child.kill('SIGCONT');
    await new Promise((resolve) => child.once('exit', resolve));
    const reading = JSON.parse(out.trim().split('\n').pop()!) as { max: number; sleeps: number };
    expect(reading.max).toBeGreaterThan(300);
    expect(reading.max).toBeLessThan(2000);
  });

  it('stop() answers once, and refuses a period that is not positive', async () => {
    const witness = startPauseWitness(5);
    // Long enough for the thread to start and sleep a few times.
    await sleep(300);
    const first = witness.stop();
    expect(witness.stop()).toBe(first);
    expect((await first).sleeps).toBeGreaterThan(0);
    expect(() => startPauseWitness(0)).toThrow('pause witness period must be > 0 ms, got 0');
    expect(() => startPauseWitness(Number.NaN)).toThrow('pause witness period must be > 0 ms, got NaN');
  });
});
