import type { PoolLike } from '../../platform/db/index.js';
import type { TablesOf } from '../../platform/db/index.js';
import type { Kysely } from '../../platform/db/index.js';
import type { EventBus } from '../../platform/events/index.js';
import type { HttpServerOptions } from '../../platform/http/index.js';
import { type Logger, tapOf } from '../../platform/logger.js';
import type { AppModule } from '../../platform/module.js';
import { LogStore, type LogTables, appEntryOf } from './log-store.js';
import { Metrics } from './metrics.js';
import { observabilityRoutes } from './observability.routes.js';

export interface ObservabilityNeeds {
  db: Kysely<object>;
  pool: PoolLike;
  events: EventBus;
  logger: Logger;
  settings: { logs: { retentionDays: number; requests: boolean }; metrics: boolean; metricsToken: string | undefined };
}

export interface ObservabilityModule extends AppModule {
  /** The request and app logs (batched into the database). */
  logs: LogStore;
  /** Prometheus metrics (null when INFINITY_METRICS is off). */
  metrics: Metrics | null;
  /** What the HTTP server reports of each request (undefined: nobody wants it). */
  observe: HttpServerOptions['observe'];
}

/** Operations: the request and app logs, Prometheus metrics and their routes. */
export function observabilityModule(n: ObservabilityNeeds): ObservabilityModule {
  const { logger, settings } = n;
  const db = n.db.withTables<TablesOf<LogTables>>();
  const logs = new LogStore(db, {
    flushMs: 1000,
    maxBuffer: 500,
    retentionDays: settings.logs.retentionDays,
    onError: (err) => logger.info({ err: { message: err instanceof Error ? err.message : String(err) } }, 'could not store log rows'),
  });
  const metrics = settings.metrics ? new Metrics({ db: n.db, pool: n.pool, events: n.events }) : null;
  const tap = tapOf(logger);
  const observe: HttpServerOptions['observe'] =
    settings.logs.requests || metrics
      ? (r) => {
          if (settings.logs.requests)
            logs.request({
              at: r.at,
              request_id: r.requestId,
              method: r.method,
              route: r.route,
              status: r.status,
              duration_ms: r.durationMs,
              bytes: r.bytes,
              org_id: r.orgId,
              actor_kind: r.actorKind,
              actor_id: r.actorId,
              ip: r.ip,
            });
          metrics?.observeRequest(r.method, r.route ?? 'unmatched', r.status, r.durationMs / 1000);
        }
      : undefined;
  return {
    name: 'observability',
    logs,
    metrics,
    observe,
    routes: [observabilityRoutes({ db, metrics, metricsToken: settings.metricsToken })],
    services: [
      {
        // First to start and last to stop: every other service's warnings reach the app log.
        name: 'logs',
        start: () => {
          logs.start();
          tap?.attach((line) => {
            const e = appEntryOf(line);
            if (e) logs.app(e);
          });
        },
        stop: async () => {
          tap?.attach(undefined);
          await logs.close();
        },
      },
      ...(metrics ? [{ name: 'metrics', start: () => metrics.start(), stop: () => metrics.close() }] : []),
    ],
  };
}
