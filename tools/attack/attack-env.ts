// The attack suite's arguments, limits and the environment of the server under attack (its
// temporary cache directory and token). Imported first: `--help` exits before the directory exists.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

// ---- arguments ---------------------------------------------------------------------------------

export const { values: args } = parseArgs({
  options: {
    short: { type: 'boolean', default: false },
    ratings: { type: 'string' },
    only: { type: 'string' },
    skip: { type: 'string' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});
if (args.help) {
  process.stdout.write('npm run attack -- [--short] [--ratings N] [--only a,b] [--skip a,b] [--keep]\n');
  process.exit(0);
}
export const only = args.only ? new Set(args.only.split(',')) : null;
export const skip = new Set(args.skip ? args.skip.split(',') : []);

export const REPO_ROOT = resolve(__dirname, '../../..');
export const MAX_STALL_MS = 100;
export const MAX_RSS_MB = 600;
/** Every request of the suite gives up after this long (the suite as a whole is bounded too). */
export const REQUEST_TIMEOUT_MS = 60_000;
export const SUITE_BUDGET_MS = 180_000;

export function log(message: string): void {
  process.stderr.write(`[attack] ${message}\n`);
}

export const dir = mkdtempSync(join(tmpdir(), 'recsys-attack-'));
export const token = randomBytes(18).toString('base64url');
export const env: NodeJS.ProcessEnv = {
  ...process.env,
  PORT: '0',
  HOST: '127.0.0.1',
  RECSYS_CACHE_DIR: dir,
  RECSYS_API_TOKEN: token,
  RECSYS_LOG_LEVEL: 'info',
  RECSYS_CORS_ORIGINS: '',
};
