import type { Kysely } from '../../platform/db/index.js';
import type { EventBus } from '../../platform/events/index.js';
import type { AppModule } from '../../platform/module.js';
import type { ModelCache } from '../schema/index.js';
import type { QuotaGate } from '../usage/index.js';
import { recordRoutes } from './records.routes.js';
import type { RecordsContext } from './records.service.js';
import { SearchWidths } from './search-width.js';

export interface RecordsNeeds {
  db: Kysely<object>;
  cache: ModelCache;
  events: EventBus;
  vector: boolean;
  quota: QuotaGate;
  /** Embeds a search text with a model's embedding settings (the AI module). */
  embedQuery: NonNullable<RecordsContext['embedQuery']>;
  settings: { importLimit: number; searchRecall: number };
}

/** The records of every model: CRUD, lists, bulk, import/export and search. */
export function recordsModule(n: RecordsNeeds): AppModule & { context: RecordsContext } {
  const widths = new SearchWidths({ target: n.settings.searchRecall });
  const context: RecordsContext = { db: n.db, cache: n.cache, events: n.events, vector: n.vector, embedQuery: n.embedQuery, quota: n.quota, widths };
  return {
    name: 'records',
    context,
    routes: [recordRoutes(context, { importLimit: n.settings.importLimit })],
    // Search-width measurements run after searches; stopping waits for the one under way.
    services: [{ name: 'search widths', stop: () => widths.stop() }],
  };
}
