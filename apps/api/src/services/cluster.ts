import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { Logger } from '../logger';
import type { ModelRole } from './model-registry';

/**
 * What one API process tells the others over one PostgreSQL (NOTIFY payloads stay far below its
 * 8000-byte limit: ids, never states; receivers read the rest from the store):
 * - `rating` / `interaction`: a row with this id was stored (durably) through the API;
 * - `run`: training run `runId` changed status or finished an epoch;
 * - `activated`: `modelId` is now the active model of `role` in the shared manifest;
 * - `resync` (local only, never sent): the connection was lost and is back, so any event may
 *   have been missed: read everything again (rows, manifest, runs).
 */
export type ClusterEvent =
  | { type: 'rating'; id: number }
  | { type: 'interaction'; id: number }
  | { type: 'run'; runId: string }
  | { type: 'activated'; role: ModelRole; modelId: string }
  | { type: 'resync' };

/** Frees the training lock (idempotent). */
export type Release = () => Promise<void>;

/**
 * What the API processes over one store share beyond the store itself: one training run at a
 * time across all of them, and events about new rows, runs and activations.
 */
export interface Cluster {
  /** True when other processes may share the store (events arrive; polling the store makes sense). */
  readonly shared: boolean;
  /** Whether events from the other processes arrive now (false while the event session reconnects: the polls still read the store). */
  readonly listening: boolean;
  /**
   * Takes the training lock when no process (this one included) holds it: its Release frees it.
   * Null when it is held. Hold it while a run is QUEUED or RUNNING.
   */
  tryLockTraining(): Promise<Release | null>;
  /** Tells the other processes (never this one); a failure is logged, never thrown (they poll the store too). */
  notify(event: Exclude<ClusterEvent, { type: 'resync' }>): Promise<void>;
  /** Calls `listener` with each event of another process (and `resync` after a reconnect); returns the unsubscribe. */
  onEvent(listener: (event: ClusterEvent) => void): () => void;
  close(): Promise<void>;
}

/** One process over SQLite: an in-process lock, no broadcast. */
export class LocalCluster implements Cluster {
  readonly shared = false;
  readonly listening = true;
  private locked = false;

  async tryLockTraining(): Promise<Release | null> {
    if (this.locked) return null;
    this.locked = true;
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      this.locked = false;
    };
  }

  async notify(): Promise<void> {}

  onEvent(): () => void {
    return () => {};
  }

  async close(): Promise<void> {}
}

/**
 * The LISTEN/NOTIFY channel of the API processes serving one data set (`scope`: its CRC-32 in
 * hex; one database may hold several data sets, as the store keys its rows by it).
 */
export function clusterChannel(scope: string): string {
  if (!/^[0-9a-f]{1,16}$/i.test(scope)) throw new RangeError(`cluster scope must be a data set's CRC-32 in hex, got ${JSON.stringify(scope)}`);
  return `recsys_events_${scope.toLowerCase()}`;
}

/** The first key of the training lock (`pg_try_advisory_lock(int, int)`): "recs" in ASCII; the second is the data set's CRC-32. */
export const TRAINING_LOCK_NAMESPACE = 0x72656373;

/** The training lock's second key: the data set's CRC-32 (hex) as a signed 32-bit integer. */
export function trainingLockKey(scope: string): number {
  return parseInt(scope.slice(-8), 16) | 0;
}

/** Reconnection delays of the listening session: doubled from the first to the last, then the last. */
export const RECONNECT_DELAY_MS = { first: 100, last: 5_000 } as const;

/** The largest NOTIFY payload PostgreSQL accepts (bytes, less one). */
export const NOTIFY_LIMIT = 7_999;

/**
 * The event a NOTIFY payload holds, with the id of the process that sent it; null (the reason
 * in `problem`) when the payload is not one this code writes: another program's, or corrupt.
 */
export function parseEvent(payload: string): { from: string; event: ClusterEvent } | { problem: string } {
  let v: unknown;
  try {
    v = JSON.parse(payload);
  } catch {
    return { problem: 'not JSON' };
  }
  const o = v as Record<string, unknown> | null;
  if (o === null || typeof o !== 'object' || typeof o.from !== 'string') return { problem: 'no "from" string' };
  const id = o.id;
  switch (o.type) {
    case 'rating':
    case 'interaction':
      if (!Number.isSafeInteger(id) || (id as number) <= 0) return { problem: `"id" must be a positive integer, got ${JSON.stringify(id)}` };
      return { from: o.from, event: { type: o.type, id: id as number } };
    case 'run':
      if (typeof o.runId !== 'string' || o.runId === '') return { problem: '"runId" must be a non-empty string' };
      return { from: o.from, event: { type: 'run', runId: o.runId } };
    case 'activated':
      if (o.role !== 'rating' && o.role !== 'ranking') return { problem: `"role" must be rating or ranking, got ${JSON.stringify(o.role)}` };
      if (typeof o.modelId !== 'string' || o.modelId === '') return { problem: '"modelId" must be a non-empty string' };
      return { from: o.from, event: { type: 'activated', role: o.role, modelId: o.modelId } };
    default:
      return { problem: `unknown "type" ${JSON.stringify(o.type)}` };
  }
}

/**
 * API processes over one PostgreSQL database.
 *
 * Events: LISTEN on the data set's channel ({@link clusterChannel}) on a dedicated session; NOTIFY through it (the
 * process's own events come back to it and are dropped by their `from`). When the session is
 * lost it reconnects (delays {@link RECONNECT_DELAY_MS}) and then hands the listeners one
 * `resync` event: whatever was sent meanwhile is lost, so they read everything again.
 *
 * Training lock: `pg_try_advisory_lock(namespace, data set CRC-32)` on a session of its own, opened per lock and closed at
 * release. A process killed while it holds the lock loses its session, and PostgreSQL frees the
 * lock with it: no stale lock outlives its holder.
 */
export class PostgresCluster implements Cluster {
  readonly shared = true;
  /** This process's id in the events it sends. */
  readonly id = randomBytes(6).toString('hex');
  private client: Client | null = null;
  private readonly listeners = new Set<(event: ClusterEvent) => void>();
  private closed = false;
  private reconnecting: NodeJS.Timeout | null = null;
  private delay: number = RECONNECT_DELAY_MS.first;
  /** Sessions holding the training lock (closed at close). */
  private readonly lockSessions = new Set<Client>();

  get listening(): boolean {
    return this.client !== null && this.reconnecting === null && !this.closed;
  }

  /** LISTEN/NOTIFY channel (see {@link clusterChannel}). */
  readonly channel: string;
  private readonly lockKey: number;

  private constructor(
    private readonly url: string,
    scope: string,
    private readonly logger: Logger,
  ) {
    this.channel = clusterChannel(scope);
    this.lockKey = trainingLockKey(scope);
  }

  /**
   * Connects the listening session of the processes serving data set `scope` (its CRC-32 in hex);
   * a failure to connect at start is thrown (the server does not start).
   */
  static async open(url: string, scope: string, logger: Logger): Promise<PostgresCluster> {
    const cluster = new PostgresCluster(url, scope, logger);
    cluster.client = await cluster.listen();
    return cluster;
  }

  private async listen(): Promise<Client> {
    const client = new Client({ connectionString: this.url, application_name: 'recsys-api-events' });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('the connection ended')));
    client.on('notification', (message) => {
      if (message.channel !== this.channel) return;
      this.receive(message.payload ?? '');
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${this.channel}`);
    } catch (error) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      throw error;
    }
    return client;
  }

  private receive(payload: string): void {
    const parsed = parseEvent(payload);
    if ('problem' in parsed) {
      this.logger.warn({ channel: this.channel, payload: payload.slice(0, 200), problem: parsed.problem }, 'cluster event ignored: not one the API sends');
      return;
    }
    if (parsed.from === this.id) return;
    this.emit(parsed.event);
  }

  private emit(event: ClusterEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error({ err: error, event }, 'cluster event listener failed');
      }
    }
  }

  /** The listening session failed or ended: drop it and reconnect (unless closing). */
  private lost(client: Client, error: Error): void {
    if (this.client !== client) return;
    this.client = null;
    client.removeAllListeners();
    client.on('error', () => undefined);
    void client.end().catch(() => undefined);
    if (this.closed) return;
    this.logger.warn({ err: error, retryMs: this.delay }, 'cluster event session lost; reconnecting (events sent meanwhile are read back from the store)');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.reconnecting || this.closed) return;
    this.reconnecting = setTimeout(() => {
      this.reconnecting = null;
      this.listen().then(
        (client) => {
          if (this.closed) {
            void client.end().catch(() => undefined);
            return;
          }
          this.client = client;
          this.delay = RECONNECT_DELAY_MS.first;
          this.logger.info('cluster event session reconnected; reading the store again');
          this.emit({ type: 'resync' });
        },
        (error: unknown) => {
          this.delay = Math.min(this.delay * 2, RECONNECT_DELAY_MS.last);
          this.logger.warn({ err: error, retryMs: this.delay }, 'cluster event session: reconnect failed');
          this.scheduleReconnect();
        },
      );
    }, this.delay);
  }

  async notify(event: Exclude<ClusterEvent, { type: 'resync' }>): Promise<void> {
    const payload = JSON.stringify({ from: this.id, ...event });
    if (Buffer.byteLength(payload) > NOTIFY_LIMIT) {
      this.logger.error({ type: event.type, bytes: Buffer.byteLength(payload) }, `cluster event not sent: longer than NOTIFY's ${NOTIFY_LIMIT} bytes`);
      return;
    }
    const client = this.client;
    if (!client) {
      this.logger.warn({ event }, 'cluster event not sent: the event session is reconnecting (the other processes read it from the store at their next poll)');
      return;
    }
    try {
      await client.query('SELECT pg_notify($1, $2)', [this.channel, payload]);
    } catch (error) {
      this.logger.warn({ err: error, event }, 'cluster event not sent (the other processes read it from the store at their next poll)');
    }
  }

  onEvent(listener: (event: ClusterEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async tryLockTraining(): Promise<Release | null> {
    if (this.closed) return null;
    const session = new Client({ connectionString: this.url, application_name: 'recsys-api-training-lock' });
    let held = false;
    session.on('error', (error) => {
      if (held) this.logger.error({ err: error }, 'the training lock session failed: the lock is free again for the other processes while this run goes on');
    });
    await session.connect();
    try {
      const { rows } = await session.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::int, $2::int) AS locked', [TRAINING_LOCK_NAMESPACE, this.lockKey]);
      if (!rows[0]?.locked) {
        await session.end();
        return null;
      }
    } catch (error) {
      await session.end().catch(() => undefined);
      throw error;
    }
    held = true;
    this.lockSessions.add(session);
    return async () => {
      if (!held) return;
      held = false;
      this.lockSessions.delete(session);
      // Ending the session frees the lock too; the explicit unlock says so at once.
      await session.query('SELECT pg_advisory_unlock($1::int, $2::int)', [TRAINING_LOCK_NAMESPACE, this.lockKey]).catch(() => undefined);
      await session.end().catch(() => undefined);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnecting) clearTimeout(this.reconnecting);
    this.reconnecting = null;
    this.listeners.clear();
    const client = this.client;
    this.client = null;
    const sessions = [...this.lockSessions];
    this.lockSessions.clear();
    await Promise.all([client, ...sessions].map((c) => c?.end().catch(() => undefined)));
  }
}

/** The cluster of the processes serving data set `scope` (CRC-32 hex): over PostgreSQL when `databaseUrl` is set, else this process alone. */
export async function openCluster(databaseUrl: string | undefined, scope: string, logger: Logger): Promise<Cluster> {
  return databaseUrl ? PostgresCluster.open(databaseUrl, scope, logger) : new LocalCluster();
}
