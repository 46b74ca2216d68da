// The GraphQL API server (`npm start`): see README "GraphQL API" and `--help`.
import 'reflect-metadata';
import { createServer } from 'node:net';
import { compileWasmOptimizedEagerly } from '@recsys/core';
import { ApiConfig, ConfigError, parseFlags, resolveConfig, usage } from './config';
import { createLogger } from './logger';
import { RunningApi, SHUTDOWN_GRACE_MS, startApi } from './server';

/** Exit codes: 0 stopped by a signal after draining; 1 failed at runtime or startup; 2 bad flags, variables or an unusable address. */
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

/** One line on stderr, nothing else (no stack trace): the operator's mistake, not the server's. */
function refuse(message: string): never {
  process.stderr.write(`recsys-api: ${message}\n`);
  process.exit(EXIT_USAGE);
}

/** Errors of `listen` that say the address cannot be used: the operator chooses another one. */
const ADDRESS_ERRORS: Record<string, string> = {
  EADDRINUSE: 'is already in use',
  EACCES: 'needs privileges this process does not have',
  EADDRNOTAVAIL: 'is not an address of this machine',
};

/**
 * Binds host:port once and lets it go, so that an unusable address is reported in one line before
 * the server is built (the WebSocket server would print the listen error a second time, with its stack).
 */
function probeAddress(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

function addressError(error: unknown, config: ApiConfig): void {
  const code = (error as NodeJS.ErrnoException).code;
  if (code && code in ADDRESS_ERRORS) refuse(`cannot listen on ${config.host}:${config.port}: the address ${ADDRESS_ERRORS[code]} (${code}); set PORT / --port or HOST / --host`);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let config: ApiConfig;
  try {
    if (parseFlags(argv).help) {
      process.stdout.write(usage());
      return;
    }
    config = resolveConfig(argv);
  } catch (error) {
    // Whatever resolveConfig refuses is a bad flag or variable (ConfigError, or a limit's RangeError
    // such as RECSYS_TRAINING_NICE=abc): one line and exit 2, not a stack trace.
    if (error instanceof ConfigError || error instanceof RangeError) refuse(error.message);
    throw error;
  }
  if (config.port !== 0) {
    try {
      await probeAddress(config.host, config.port);
    } catch (error) {
      addressError(error, config);
      throw error;
    }
  }
  const logger = createLogger();
  let api: RunningApi;
  try {
    api = await startApi(config, { logger });
  } catch (error) {
    addressError(error, config);
    logger.fatal({ err: error }, 'startup failed');
    process.exit(EXIT_FAILED);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal while shutting down: exiting now');
      process.exit(EXIT_FAILED);
    }
    stopping = true;
    logger.info({ signal, graceSeconds: SHUTDOWN_GRACE_MS / 1000 }, 'shutting down: draining in-flight requests, then closing the rating store');
    // The drain gives requests SHUTDOWN_GRACE_MS; past that (plus the closing of the rest) give up.
    setTimeout(() => {
      logger.error({ signal }, 'shutdown did not finish in time: exiting');
      process.exit(EXIT_FAILED);
    }, SHUTDOWN_GRACE_MS + 2_000).unref();
    api.close().then(
      () => {
        logger.info({ signal }, 'stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'error while shutting down');
        process.exit(EXIT_FAILED);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  api.ready.catch(() => process.exit(EXIT_FAILED));
}

// Before any kernel compiles: the first similarMovies queries and training epochs otherwise run baseline WebAssembly code.
compileWasmOptimizedEagerly();
void main();
