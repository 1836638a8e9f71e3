import path from 'node:path';
import type { Config } from './config/index.js';
import { type Database, type Notifier, localNotifier, postgresNotifier } from './platform/db/index.js';
import { type App, type HttpServerOptions, createHttpServer } from './platform/http/index.js';
import type { Logger } from './platform/logger.js';
import { type Mailer, createMailer } from './platform/mail.js';
import { OutboundHttp } from './platform/net/outbound-http.js';
import { openRedis } from './platform/redis.js';
import { JsSandbox } from './platform/sandbox/js-sandbox.js';
import type { Service } from './platform/services.js';
import { VERSION } from './version.js';

/** The domain-free pieces the modules share, built (not started) by the composition root. */
export interface Platform {
  app: App;
  notifier: Notifier;
  outbound: OutboundHttp;
  sandbox: JsSandbox;
  mailer: Mailer | null;
  redis: ReturnType<typeof openRedis> | undefined;
  /** Listed before every module: started first, stopped last. */
  services: Service[];
  /** Listed after every module, so it stops first: in-flight requests finish before the services they use stop. */
  http: Service;
}

export async function openPlatform(n: {
  config: Config;
  db: Database;
  logger: Logger;
  observe: HttpServerOptions['observe'];
  openapiWebhooks?: Record<string, unknown>;
}): Promise<Platform> {
  const { config, db, logger } = n;
  let redisDown = false;
  const redis = config.redisUrl
    ? openRedis(config.redisUrl, (err) => {
        if (!redisDown)
          logger.warn(
            { err: { message: err instanceof Error ? err.message : String(err) } },
            'Redis unreachable; rate limits count per instance until it is back',
          );
        redisDown = true;
      })
    : undefined;
  redis?.on('ready', () => (redisDown = false));
  const app = await createHttpServer({
    logger,
    bodyLimit: config.bodyLimit,
    http: config.http,
    corsOrigins: config.corsOrigins,
    trustProxy: config.trustProxy,
    publicUrl: config.publicUrl,
    version: VERSION,
    uiRoot: path.resolve(import.meta.dirname, '../../web/dist'),
    ...(n.observe ? { observe: n.observe } : {}),
    ...(n.openapiWebhooks ? { openapiWebhooks: n.openapiWebhooks } : {}),
  });
  const mailer = createMailer(config.smtp);
  const outbound = new OutboundHttp({ allow: config.httpAllow });
  // Code nodes' sandbox: its worker threads are spawned by the first run, not here.
  const sandbox = new JsSandbox({ workers: 2, maxInputBytes: 5 * 1024 * 1024, maxOutputBytes: 5 * 1024 * 1024, workerHeapMb: 128 });
  const notifier: Notifier =
    config.database.kind === 'postgres'
      ? await postgresNotifier(config.database.url, db.pool, (err) => logger.warn({ err }, 'notification connection'))
      : localNotifier();
  return {
    app,
    notifier,
    outbound,
    sandbox,
    mailer,
    redis,
    services: [
      // A failed connection is reported by the error handler above; commands fall back meanwhile.
      ...(redis ? [{ name: 'redis', start: () => void redis.connect().catch(() => undefined), stop: () => redis.disconnect() }] : []),
      ...(mailer ? [{ name: 'mailer', stop: () => mailer.close() }] : []),
      { name: 'sandbox', stop: () => sandbox.close() },
      { name: 'outbound http', stop: () => outbound.close() },
      { name: 'notifications', start: () => notifier.listen(), stop: () => notifier.close() },
    ],
    http: { name: 'http', stop: () => app.close() },
  };
}
