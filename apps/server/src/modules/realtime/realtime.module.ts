import type { Config, MasterKey } from '../../config/index.js';
import type { Kysely } from '../../platform/db/index.js';
import type { EventSpine } from '../../platform/events/index.js';
import type { Logger } from '../../platform/logger.js';
import type { AppModule } from '../../platform/module.js';
import type { Authenticator } from '../access/index.js';
import type { RecordsContext } from '../records/index.js';
import { Hub } from './realtime.hub.js';
import { realtimeRoutes } from './realtime.routes.js';

export interface RealtimeNeeds {
  db: Kysely<object>;
  events: EventSpine;
  records: RecordsContext;
  authenticate: Authenticator;
  /** Seal SSE tickets (current first). */
  keys: MasterKey[];
  logger: Logger;
  settings: Config['realtime'];
}

export interface RealtimeModule extends AppModule {
  hub: Hub;
}

const PRESENCE_RENEW_MS = 20_000;

/** Realtime (SPEC §6): WebSocket and server-sent events on the event spine. See README.md. */
export function realtimeModule(n: RealtimeNeeds): RealtimeModule {
  const s = n.settings;
  const hub = new Hub({
    db: n.db,
    events: n.events,
    records: n.records,
    authenticate: n.authenticate,
    logger: n.logger,
    settings: { sendBuffer: s.sendBuffer, maxConnections: s.maxConnections, replayWindowSeconds: s.replayWindowSeconds },
  });
  let timers: NodeJS.Timeout[] = [];
  return {
    name: 'realtime',
    hub,
    routes: [realtimeRoutes(hub, { db: n.db, keys: n.keys, settings: { authTimeoutMs: s.authTimeoutMs, heartbeatMs: s.heartbeatMs } })],
    services: [
      {
        name: 'realtime',
        start: () => {
          hub.log.start();
          const renew = () => void hub.renewPresence().catch((err: unknown) => n.logger.warn({ err }, 'could not renew realtime presence'));
          timers = [setInterval(() => hub.beat(), s.heartbeatMs), setInterval(renew, PRESENCE_RENEW_MS)];
          for (const t of timers) t.unref();
        },
        stop: async () => {
          for (const t of timers) clearInterval(t);
          await hub.stop();
        },
      },
    ],
  };
}
