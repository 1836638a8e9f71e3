import type { PlanLimits } from '../../config/index.js';
import type { Kysely, TablesOf } from '../../platform/db/index.js';
import type { EventBus } from '../../platform/events/index.js';
import type { Logger } from '../../platform/logger.js';
import type { Mailer } from '../../platform/mail.js';
import type { AppModule } from '../../platform/module.js';
import { Quotas } from './quotas.js';
import type { UsageTables } from './usage.repo.js';
import { type TokenBreakdown, usageRoutes } from './usage.routes.js';

export interface QuotaNeeds {
  db: Kysely<object>;
  limits: PlanLimits;
  events: EventBus;
  logger: Logger;
  mailer: Mailer | null;
  publicUrl: string;
}

/**
 * The plan gate every module checks (built first: records, flows, AI… take it). It stops after
 * them: its pending counter writes and usage alerts are settled last.
 */
export function quotasModule(n: QuotaNeeds): AppModule & { quotas: Quotas } {
  const quotas = new Quotas({
    db: n.db.withTables<TablesOf<UsageTables>>(),
    limits: n.limits,
    events: n.events,
    logger: n.logger,
    mailer: n.mailer,
    publicUrl: n.publicUrl,
  });
  return { name: 'quotas', quotas, routes: [], services: [{ name: 'quotas', stop: () => quotas.settle() }] };
}

/** The usage API, built after the AI module whose token counts it shows. */
export function usageModule(n: { db: Kysely<object>; quotas: Quotas; tokens: TokenBreakdown }): AppModule {
  return { name: 'usage', routes: [usageRoutes(n.quotas, { db: n.db.withTables<TablesOf<UsageTables>>(), tokens: n.tokens })], services: [] };
}
