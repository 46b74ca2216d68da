// Test support: the compiled API (`node apps/api/dist/main.js`) as a child process, with its JSON
// log lines parsed as they come.
import { ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

/** The repository root. */
export const ROOT = resolve(__dirname, '../../../..');
/** The compiled server entry (the specs that spawn it skip when it is missing). */
export const MAIN = join(ROOT, 'apps/api/dist/main.js');

export interface Spawned {
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  stderr: () => string;
  exited: Promise<number | null>;
  /** Resolves with the first log line with this message. */
  line(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** Spawns `command args` at the repository root with `env` over this process's (log level info), collecting its log lines. */
export function spawnServer(command: string, args: string[], env: Record<string, string>): Spawned {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, RECSYS_LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Array<Record<string, unknown>> = [];
  let stderr = '';
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const part of parts) {
      if (!part.startsWith('{')) continue; // npm's banner
      lines.push(JSON.parse(part));
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return {
    child,
    lines,
    stderr: () => stderr,
    exited,
    line: async (msg, timeoutMs = 60_000) => {
      for (const started = Date.now(); Date.now() - started < timeoutMs; await new Promise((r) => setTimeout(r, 50))) {
        const found = lines.find((l) => l.msg === msg);
        if (found) return found;
        if (child.exitCode !== null) break;
      }
      throw new Error(`no log line "${msg}" (exit ${child.exitCode}); stderr: ${stderr}; lines: ${JSON.stringify(lines.map((l) => l.msg))}`);
    },
  };
}

