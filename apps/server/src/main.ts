import { randomToken } from './platform/crypto/index.js';
import { buildApp } from './app.js';
import { warmPasswordCheck } from './modules/identity/index.js';
import type { ConfigOverrides } from './config/index.js';
import { openRuntime, removeServerFile, writeServerFile } from './runtime.js';

/**
 * `infinity start`: config → database (+ migrations) → app → start its services → listen, then wait for a signal.
 * On SIGTERM/SIGINT: readiness fails at once, in-flight requests finish (up to
 * INFINITY_SHUTDOWN_GRACE seconds), the database closes, the process exits 0.
 */
export async function start(overrides: ConfigOverrides): Promise<void> {
  const rt = await openRuntime(overrides);
  const { config, logger, db } = rt;
  const instanceToken = randomToken(32);
  const serveApi = config.role === 'all' || config.role === 'api';
  const built = await buildApp({
    ...rt,
    instanceToken,
    api: serveApi,
    worker: config.role === 'all' || config.role === 'worker',
    scheduler: config.role === 'all' || config.role === 'scheduler',
  });
  // Workers, schedules and listeners start in their order; then the API is reachable.
  await built.start();
  const address = await built.app.listen({ port: config.port, host: config.host });
  const port = built.app.server.address();
  const url = typeof port === 'object' && port ? `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port.port}` : address;
  if (db.kind === 'pglite') writeServerFile(config.dataDir, { pid: process.pid, url, token: instanceToken });
  logger.info({ url: address, role: config.role, database: db.info.kind, vector: db.info.vector, data: db.info.location }, 'Infinity is listening');
  // The password-strength lists load off the request path, so the first sign-up pays no extra.
  if (serveApi) void warmPasswordCheck().catch((err: unknown) => logger.warn({ err }, 'password check warm-up failed'));
  if (process.stdout.isTTY) process.stdout.write(`\n  Infinity is ready: ${config.publicUrl}  (API reference: ${config.publicUrl}/docs)\n\n`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    built.drain();
    const force = setTimeout(() => {
      logger.error('shutdown grace period over; exiting with work unfinished');
      process.exit(1);
    }, config.shutdownGrace * 1000);
    force.unref();
    try {
      await built.close();
      await db.close();
    } finally {
      if (db.kind === 'pglite') removeServerFile(config.dataDir);
    }
    logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}
