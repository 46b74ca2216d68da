// The GraphQL API server (`npm start`): see README "GraphQL API".
import 'reflect-metadata';
import { resolveConfig } from './config';
import { createLogger } from './logger';
import { startApi } from './server';

async function main(): Promise<void> {
  const logger = createLogger();
  let config;
  try {
    config = resolveConfig();
  } catch (error) {
    logger.fatal({ err: error }, 'bad configuration');
    process.exit(2);
  }
  const api = await startApi(config, { logger });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    api.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  api.ready.catch(() => process.exit(1));
}

void main();
