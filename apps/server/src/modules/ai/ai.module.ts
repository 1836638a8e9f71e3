import type { Kysely, Notifier, TablesOf } from '../../platform/db/index.js';
import type { EventBus } from '../../platform/events/index.js';
import type { Logger } from '../../platform/logger.js';
import type { AppModule } from '../../platform/module.js';
import type { OutboundHttp } from '../../platform/net/outbound-http.js';
import type { OrgActor } from '../access/index.js';
import type { ModelCache, ModelDef } from '../schema/index.js';
import type { QuotaGate } from '../usage/index.js';
import type { VaultContext } from '../vault/index.js';
import { aiRoutes } from './ai.routes.js';
import { type AiContext, embedTexts } from './ai.service.js';
import { EmbeddingWorker } from './embeddings.js';
import { type AiTables, monthUsage } from './usage.js';

/** Model calls through the organization's keys (built first: records, flows and agents call models). */
export function aiContext(n: { db: Kysely<object>; vault: VaultContext; outbound: OutboundHttp; quota: QuotaGate; observe?: AiContext['observe'] }): AiContext {
  return { db: n.db.withTables<TablesOf<AiTables>>(), vault: n.vault, fetch: n.outbound.fetch, quota: n.quota, ...(n.observe ? { observe: n.observe } : {}) };
}

/** Embeds a records search text with the model's embedding settings (the records module's `embedQuery`). */
export function searchEmbedder(ai: AiContext) {
  return async (actor: OrgActor, model: ModelDef, text: string): Promise<number[]> => {
    const settings = model.embedding;
    if (!settings) throw new Error(`the model ${model.name} has no embedding settings`);
    const [vector] = await embedTexts(ai, actor, settings, [text], `search ${model.name}`);
    if (!vector) throw new Error('the embedding provider returned no vector');
    return vector;
  };
}

export interface AiNeeds {
  context: AiContext;
  db: Kysely<object>;
  notifier: Notifier;
  events: EventBus;
  cache: ModelCache;
  logger: Logger;
  /** The database: pgvector installed, and whether it is the embedded one (one process, no autovacuum). */
  database: { vector: boolean; embedded: boolean };
  settings: { embeddingBatch: number; pollMs: number };
  /** Embeds records in this process (roles all and worker); other roles only announce work. */
  work: boolean;
  /** Search widths measured per model (the records module), shown in a model's AI status. */
  searchWidths: Parameters<typeof aiRoutes>[0]['searchWidths'];
}

export interface AiModule extends AppModule {
  embeddings: EmbeddingWorker;
  /** This month's tokens of an organization, by provider and model (the usage API shows them). */
  tokens: (orgId: string) => ReturnType<typeof monthUsage>;
}

/** The embedding worker and the AI status routes (built after records, whose search widths they show). */
export function aiModule(n: AiNeeds): AiModule {
  const { embedded } = n.database;
  const embeddings = new EmbeddingWorker({
    db: n.db,
    ai: n.context,
    notifier: n.notifier,
    events: n.events,
    cache: n.cache,
    logger: n.logger,
    vector: n.database.vector,
    batch: n.settings.embeddingBatch,
    // The embedded database: one process (no leases needed) and no autovacuum.
    vacuumAfter: embedded ? 1000 : 0,
    reclaimEvery: embedded ? 256 : 0,
    shared: !embedded,
    pollMs: Math.max(1000, n.settings.pollMs),
    work: n.work,
  });
  return {
    name: 'ai',
    embeddings,
    tokens: (orgId) => monthUsage(n.context.db, orgId),
    routes: [aiRoutes({ db: n.db, cache: n.cache, searchWidths: n.searchWidths })],
    services: [{ name: 'embeddings', start: () => embeddings.start(), stop: () => embeddings.stop() }],
  };
}
