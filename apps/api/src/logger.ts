import pino, { Logger } from 'pino';

export type { Logger };

/** Structured JSON logs on stdout (pino). `RECSYS_LOG_LEVEL` overrides the level (default info). */
export function createLogger(level: string = process.env.RECSYS_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name: 'recsys-api', level, base: { pid: process.pid } });
}
