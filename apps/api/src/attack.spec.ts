// The short attack suite (tools/attack/attack.ts --short) against a server of its own on a small
// generated data set: every attack refused or answered harmlessly, and no acknowledged rating
// lost to kill -9. Timing and memory are not asserted here (the machine may be busy): they are in
// the JSON of the full `npm run attack`.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

jest.setTimeout(180_000);

const repoRoot = resolve(__dirname, '../../..');
const script = join(repoRoot, 'tools/dist/attack/attack.js');

interface AttackReport {
  attacks: Array<{ name: string; outcome: string; detail: string }>;
  acknowledgedRatings: number;
  lostRatings: number;
}

describe('attack suite, short version', () => {
  it('refuses or harmlessly answers every attack, and loses no acknowledged rating', async () => {
    if (!existsSync(script)) throw new Error(`${script} is missing: run \`npm run build\` first`);
    // The server is apps/api/dist/main.js: make sure it is built too.
    expect(existsSync(join(repoRoot, 'apps/api/dist/main.js'))).toBe(true);
    const child = spawn(process.execPath, [script, '--short', '--ratings', '20000'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    await new Promise((done) => child.once('exit', done));
    let report: AttackReport;
    try {
      report = JSON.parse(stdout) as AttackReport;
    } catch {
      throw new Error(`no JSON from the attack suite; stderr:\n${stderr}`);
    }
    const ran = report.attacks.filter((a) => a.outcome !== 'skipped');
    expect(ran.map((a) => a.name)).toEqual(
      expect.arrayContaining(['ws-introspection-299kB', 'http-5000-schema-aliases', 'ws-200-recommendations-n100', 'ws-20000-subscriptions-one-socket', 'ws-foreign-origin', 'bad-arguments', 'kill-9-durability']),
    );
    for (const a of ran) expect({ name: a.name, outcome: a.outcome, detail: a.detail }).toEqual({ name: a.name, outcome: expect.stringMatching(/^(refused|answered)$/), detail: a.detail });
    for (const name of ['ws-introspection-299kB', 'http-5000-schema-aliases', 'ws-200-recommendations-n100', 'ws-20000-subscriptions-one-socket', 'ws-foreign-origin', 'cors-preflight-foreign-origin', 'bad-arguments']) {
      expect({ name, outcome: ran.find((a) => a.name === name)?.outcome }).toEqual({ name, outcome: 'refused' });
    }
    expect(report.acknowledgedRatings).toBeGreaterThan(0);
    expect(report.lostRatings).toBe(0);
  });
});
