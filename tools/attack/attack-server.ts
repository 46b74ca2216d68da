// The server under attack: started as `npm start` would, stopped, and its peak memory.
import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { env, REPO_ROOT } from './attack-env';

// ---- the server --------------------------------------------------------------------------------

export interface Server {
  child: ChildProcess;
  url: string;
  pid: number;
}


/** The node flags of `npm start` (package.json's start script), so the server runs as it would there. */
export function startFlags(): string[] {
  const script = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start;
  const command = script.split('&&').map((s) => s.trim()).find((s) => s.startsWith('node ')) ?? '';
  return command.split(/\s+/).filter((w) => w.startsWith('--'));
}

export async function startServer(): Promise<Server> {
  const child = spawn(process.execPath, [...startFlags(), join(REPO_ROOT, 'apps/api/dist/main.js')], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk;
    if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server was not ready in 120 s; stderr: ${stderr}`)), 120_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      let entry: { msg?: string; url?: string; level?: number };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return;
      }
      if (entry.msg === 'ready' && entry.url) {
        clearTimeout(timer);
        resolveUrl(entry.url);
      } else if ((entry.level ?? 0) >= 60) {
        clearTimeout(timer);
        reject(new Error(`the server failed to start: ${line}`));
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code ?? signal}) before ready; stderr: ${stderr}`));
    });
  });
  return { child, url, pid: child.pid! };
}

export function killHard(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', () => done());
    child.kill('SIGKILL');
  });
}

export async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

export function vmHwmMb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}
