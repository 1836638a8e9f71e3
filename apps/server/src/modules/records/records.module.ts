import type { Kysely } from '../../platform/db/index.js';
import type { EventSpine } from '../../platform/events/index.js';
import type { AppModule } from '../../platform/module.js';
import type { ModelCache } from '../schema/index.js';
import type { QuotaGate } from '../usage/index.js';
import { recordRoutes } from './records.routes.js';
import type { RecordsContext } from './records.store.js';

export interface RecordsNeeds {
  db: Kysely<object>;
  cache: ModelCache;
  events: EventSpine;
  quota: QuotaGate;
  settings: { importLimit: number };
}

/** The records of every model: CRUD, lists, bulk, import/export (search: the vectors module). */
export function recordsModule(n: RecordsNeeds): AppModule & { context: RecordsContext } {
  const context: RecordsContext = { db: n.db, cache: n.cache, events: n.events, quota: n.quota };
  return { name: 'records', context, routes: [recordRoutes(context, { importLimit: n.settings.importLimit })], services: [] };
}
