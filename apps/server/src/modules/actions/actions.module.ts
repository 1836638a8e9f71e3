import type { Kysely, TablesOf } from '../../platform/db/index.js';
import type { AppModule } from '../../platform/module.js';
import type { RecordsContext } from '../records/index.js';
import type { ActionTables } from './actions.repo.js';
import { actionRoutes } from './actions.routes.js';
import type { ActionsContext } from './actions.service.js';

/** Pre-configured record operations, run in one transaction (by the API, flows and agents). */
export function actionsModule(n: { db: Kysely<object>; records: RecordsContext }): AppModule & { context: ActionsContext } {
  const context: ActionsContext = { db: n.db.withTables<TablesOf<ActionTables>>(), records: n.records };
  return { name: 'actions', context, routes: [actionRoutes(context)], services: [] };
}
