import type { Kysely, TablesOf } from '../../platform/db/index.js';
import type { EventSpine } from '../../platform/events/index.js';
import type { AppModule } from '../../platform/module.js';
import type { QuotaGate } from '../usage/index.js';
import { ModelCache } from './model-cache.js';
import type { SchemaTables } from './schema.repo.js';
import { schemaRoutes } from './schema.routes.js';
import type { SchemaContext } from './schema.service.js';

/** Models and their fields: each a table the schema module creates and alters. */
export function schemaModule(n: { db: Kysely<object>; vector: boolean; quota: QuotaGate; events: EventSpine }): AppModule & { context: SchemaContext } {
  const db = n.db.withTables<TablesOf<SchemaTables>>();
  const context: SchemaContext = { db, cache: new ModelCache(db), vector: n.vector, quota: n.quota, events: n.events };
  // Every process forgets an organization's models when model.changed arrives (from any process).
  context.cache.follow(n.events);
  return { name: 'schema', context, routes: [schemaRoutes(context)], services: [] };
}
