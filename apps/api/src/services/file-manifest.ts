import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../logger';
import type { Manifest, ManifestStore } from './store';

/**
 * The model manifest as `manifest.json` in the model directory (the SQLite mode's, as before the
 * store had a PostgreSQL back end): one file for every data set served from that directory,
 * replaced atomically by write-and-rename. A file that cannot be read or parsed, or that has no
 * `models` array, is logged and read as none (the registry starts a new one); the registry refuses
 * entries whose file is not a plain file name (see ModelRegistry.reload).
 */
export class FileManifestStore implements ManifestStore {
  constructor(
    readonly dir: string,
    private readonly logger: Logger,
  ) {}

  get location(): string {
    return join(this.dir, 'manifest.json');
  }

  async read(): Promise<Manifest | null> {
    if (!existsSync(this.location)) return null;
    try {
      const m = JSON.parse(readFileSync(this.location, 'utf8')) as Manifest;
      if (m === null || typeof m !== 'object' || !Array.isArray(m.models)) throw new Error('no "models" array');
      return m;
    } catch (error) {
      this.logger.warn({ file: this.location, err: error }, 'model manifest unreadable; starting a new one');
      return null;
    }
  }

  async write(manifest: Manifest): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    const tmp = `${this.location}.tmp`;
    writeFileSync(tmp, JSON.stringify(manifest, null, 1));
    renameSync(tmp, this.location);
  }
}
