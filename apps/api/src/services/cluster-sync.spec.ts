import { Serial } from './cluster-sync';

describe('Serial (one pass at a time, calls meanwhile coalesced into one more)', () => {
  it('runs one pass per idle call; the calls during a pass share one pass after it', async () => {
    const log: string[] = [];
    let release: () => void = () => {};
    let passes = 0;
    const serial = new Serial(
      async () => {
        const n = ++passes;
        log.push(`start ${n}`);
        if (n === 1) await new Promise<void>((r) => (release = r));
        log.push(`end ${n}`);
      },
      (error) => log.push(`failed ${String(error)}`),
    );
    const first = serial.run();
    await Promise.resolve();
    // Three calls while pass 1 runs: one pass after it, shared.
    const [x, y, z] = [serial.run(), serial.run(), serial.run()];
    expect(x).toBe(y);
    expect(y).toBe(z);
    release();
    await Promise.all([first, x]);
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
    // Idle again: a call runs a pass of its own.
    await serial.run();
    expect(passes).toBe(3);
  });

  it('a failing pass is reported and the next call runs again', async () => {
    const failures: unknown[] = [];
    let n = 0;
    const serial = new Serial(
      async () => {
        if (++n === 1) throw new Error('boom');
      },
      (error) => failures.push(error),
    );
    await serial.run();
    await serial.run();
    expect(n).toBe(2);
    expect(failures.map(String)).toEqual(['Error: boom']);
  });
});
