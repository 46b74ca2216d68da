import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { whenWorkerReady, workerScript } from './workers';

describe('workerScript', () => {
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recsys-workers-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prefers the compiled .js, else runs the .ts through @swc-node/register, else refuses', () => {
    fs.writeFileSync(path.join(dir, 'both.js'), '');
    fs.writeFileSync(path.join(dir, 'both.ts'), '');
    fs.writeFileSync(path.join(dir, 'source.ts'), '');
    expect(workerScript(dir, 'both')).toEqual({ filename: path.join(dir, 'both.js'), options: {} });
    expect(workerScript(dir, 'source')).toEqual({ filename: path.join(dir, 'source.ts'), options: { execArgv: ['--require', '@swc-node/register'] } });
    expect(() => workerScript(dir, 'absent')).toThrow(`worker entry absent not found in ${dir}`);
  });
});

describe('whenWorkerReady', () => {
  it('resolves on the ready message (ignoring others first) and stops listening', async () => {
    const worker = new Worker(
      "const { parentPort } = require('node:worker_threads'); parentPort.postMessage({ type: 'hello' }); parentPort.postMessage({ type: 'ready' }); parentPort.once('message', () => process.exit(0));",
      { eval: true },
    );
    try {
      await whenWorkerReady(worker, 'test worker');
      expect(worker.listenerCount('message')).toBe(0);
      expect(worker.listenerCount('exit')).toBe(0);
    } finally {
      await worker.terminate();
    }
  });

  it('rejects when the worker exits before it is ready', async () => {
    const worker = new Worker('process.exit(3)', { eval: true });
    await expect(whenWorkerReady(worker, 'early worker')).rejects.toThrow('early worker exited with code 3 before it was ready');
  });

  it('rejects when the worker throws while starting', async () => {
    const worker = new Worker("throw new Error('boom')", { eval: true });
    await expect(whenWorkerReady(worker, 'failing worker')).rejects.toThrow('boom');
  });
});
