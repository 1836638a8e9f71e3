import { openPlatform } from './app.platform.js';
import type { Config, InstanceKeys } from './config/index.js';
import { agentNode, agentsContext, agentsModule } from './modules/agents/index.js';
import { actionsModule } from './modules/actions/index.js';
import { rateLimitClass, registerAccessGuard } from './modules/access/index.js';
import { type EmbeddingWorker, aiContext, aiModule, searchEmbedder } from './modules/ai/index.js';
import { auditRoutes } from './modules/audit/index.js';
import { billingRoutes } from './modules/billing/index.js';
import { type ExecutionRunner, type TriggerHub, flowsModule } from './modules/flows/index.js';
import { type IdentityContext, identityModule } from './modules/identity/index.js';
import { NodeRegistry, builtinNodes } from './modules/nodes/index.js';
import { mcpModule } from './modules/mcp/index.js';
import { type LogStore, observabilityModule } from './modules/observability/index.js';
import { type RecordsContext, recordsModule } from './modules/records/index.js';
import { type Hub, realtimeModule } from './modules/realtime/index.js';
import { type VectorsContext, searchWidthsOf, vectorsModule } from './modules/vectors/index.js';
import { schemaModule } from './modules/schema/index.js';
import { systemModule } from './modules/system/index.js';
import { type Quotas, quotasModule, usageModule } from './modules/usage/index.js';
import { type VaultContext, vaultModule } from './modules/vault/index.js';
import { type WebhooksHandle, webhooksModule, webhooksOpenApi } from './modules/webhooks/index.js';
import type { Database } from './platform/db/index.js';
import { EventSpine, transportFor } from './platform/events/index.js';
import { type App, registerRateLimit } from './platform/http/index.js';
import type { Logger } from './platform/logger.js';
import type { AppModule } from './platform/module.js';
import { ServiceList } from './platform/services.js';

export interface AppDeps {
  config: Config;
  db: Database;
  keys: InstanceKeys;
  logger: Logger;
  /** Token the local CLI presents to /internal routes; unset = those routes refuse everyone. */
  instanceToken?: string;
  /** Serve the API (roles all and api); worker and scheduler processes serve health only. */
  api?: boolean;
  /** Claim and run queued executions (roles all and worker). Default true. */
  worker?: boolean;
  /** Fire schedule triggers (roles all and scheduler). Default true. */
  scheduler?: boolean;
}

export interface BuiltApp {
  app: App;
  identity: IdentityContext;
  vault: VaultContext;
  /** Domain events, published after commit (record.created, …). */
  events: EventSpine;
  runner: ExecutionRunner;
  /** Embeds records of models with embeddings enabled (roles all and worker). */
  embeddings: EmbeddingWorker;
  /** The records store. */
  records: RecordsContext;
  /** Similarity search (tests wait for search-width measurements with vectors.widths.idle()). */
  vectors: VectorsContext;
  /** Record and schedule triggers (tests deliver record events to it again). */
  triggers: TriggerHub;
  nodes: NodeRegistry;
  /** Plans and usage alerts (tests wait for alerts with settle()). */
  quotas: Quotas;
  /** The request and app logs (tests flush them). */
  logs: LogStore;
  /** Realtime connections of this process (tests count them). */
  realtime: Hub;
  /** Outbound webhooks: the sender (tests swap its clock) and the subscription index. */
  webhooks: WebhooksHandle;
  /** The running parts, in start order (stopped in reverse). */
  services: readonly string[];
  /** Starts the workers, timers and listeners, in order. Building the app starts none of them. */
  start(): Promise<void>;
  /** Marks the app as draining (readiness fails) before in-flight requests finish. */
  drain(): void;
  /** Stops everything in reverse start order (the HTTP server first, the logs last); also for an app never started. */
  close(): Promise<void>;
}

/**
 * The composition root: the modules in dependency order (each takes what it needs and offers its
 * context, routes and services), then the routes. It never listens (tests use inject()) and starts
 * nothing: `start()` starts the services in list order.
 */
export async function buildApp(deps: AppDeps): Promise<BuiltApp> {
  const { config, db, keys, logger } = deps;
  const worker = deps.worker !== false;
  const scheduler = deps.scheduler !== false;
  const kysely = db.kysely;
  // The event spine: typed events after commit, an outbox for the durable ones, and a transport
  // between processes (in-process on the embedded database, LISTEN/NOTIFY, or Redis when set).
  const events = new EventSpine({
    db: kysely,
    transport: await transportFor({
      database: config.database,
      redisUrl: config.redisUrl,
      pool: db.pool,
      onError: (err) => logger.warn({ err }, 'event transport'),
    }),
    logger,
    pollMs: config.events.outboxPollMs,
    maxAttempts: config.events.outboxMaxAttempts,
    // The embedded database has no autovacuum: the drain reclaims the outbox's dead rows itself.
    outboxVacuumEvery: config.database.kind === 'pglite' ? 2000 : 0,
    onError: (err, event) => logger.error({ err, event: event.type }, 'event subscriber failed'),
  });
  const spine = { name: 'events', start: () => events.start(), stop: () => events.stop() };

  const ops = observabilityModule({ db: kysely, pool: db.pool, events, logger, settings: config });
  const { app, notifier, outbound, sandbox, mailer, redis, ...platform } = await openPlatform({
    config,
    db,
    logger,
    observe: ops.observe,
    openapiWebhooks: webhooksOpenApi(),
  });
  const usageGate = quotasModule({ db: kysely, limits: config.plans.limits, events, logger, mailer, publicUrl: config.publicUrl });
  const quotas = usageGate.quotas;
  const identity = identityModule({
    db: kysely,
    jwtSecret: keys.jwtSecret,
    auth: config.auth,
    publicUrl: config.publicUrl,
    defaultPlan: config.plans.defaultPlan,
    logger,
    events,
  });
  const vault = vaultModule({ db: kysely, keys, config });
  const schema = schemaModule({ db: kysely, vector: db.info.vector, quota: quotas, events });
  const metrics = ops.metrics;
  const ai = aiContext({ db: kysely, vault: vault.context, outbound, quota: quotas, ...(metrics ? { observe: (e) => metrics.observeTokens(e) } : {}) });
  const records = recordsModule({ db: kysely, cache: schema.context.cache, events, quota: quotas, settings: { importLimit: config.importLimit } });
  const vectors = vectorsModule({
    db: kysely,
    cache: schema.context.cache,
    vector: db.info.vector,
    embedQuery: searchEmbedder(ai),
    searchRecall: config.ai.searchRecall,
  });
  const aiWork = aiModule({
    context: ai,
    db: kysely,
    notifier,
    events,
    cache: schema.context.cache,
    logger,
    database: { vector: db.info.vector, embedded: config.database.kind === 'pglite' },
    settings: { embeddingBatch: config.ai.embeddingBatch, pollMs: config.engine.pollMs },
    work: worker,
    searchWidths: (model) => searchWidthsOf(vectors.context, model),
  });
  const usage = usageModule({ db: kysely, quotas, tokens: aiWork.tokens });
  const actions = actionsModule({ db: kysely, records: records.context });
  const nodes = new NodeRegistry(builtinNodes({ sandbox }));
  // What agents use besides flows; the agent node of a flow gets the flows of that flow's runner.
  const agentNeeds = {
    db: kysely,
    ai,
    tokenSecret: keys.jwtSecret,
    actions: actions.context,
    vectors: vectors.context,
    schema: schema.context,
    vault: vault.context,
    outbound,
    events,
  };
  const flows = flowsModule({
    db: kysely,
    registry: nodes,
    notifier,
    events,
    logger,
    quota: quotas,
    schema: schema.context,
    services: { records: records.context, vectors: vectors.context, actions: actions.context, vault: vault.context, outbound, ai },
    agentNode: (actor, flowTools) => agentNode(agentsContext({ ...agentNeeds, flows: flowTools }), actor),
    engine: config.engine,
    publicUrl: config.publicUrl,
    bodyLimit: config.bodyLimit,
    resumeSecret: keys.jwtSecret,
    shutdownGraceMs: config.shutdownGrace * 1000,
    worker,
    scheduler,
  });
  const agents = agentsModule({ ...agentNeeds, flows: flows.tools });
  // MCP tools call the same services as the REST routes (records, search, actions, flow runs).
  const mcp = mcpModule({ schema: schema.context, records: records.context, vectors: vectors.context, actions: actions.context, flows: flows.context, logger });
  const audit: AppModule = { name: 'audit', routes: [auditRoutes(kysely)], services: [] };
  const billing: AppModule = {
    name: 'billing',
    routes: [
      billingRoutes(
        { db: kysely, config: config.stripe, publicUrl: config.publicUrl, onPlanChanged: (orgId) => quotas.forget(orgId) },
        { bodyLimit: config.bodyLimit },
      ),
    ],
    services: [],
  };
  const webhooks = webhooksModule({
    db: kysely,
    events,
    vault: vault.context,
    records: records.context,
    identity: identity.context,
    outbound,
    logger,
    mailer,
    publicUrl: config.publicUrl,
  });
  const system = systemModule({ config, database: db, vault: vault.context, logger, scheduler });
  const realtime = realtimeModule({
    db: kysely,
    events,
    records: records.context,
    authenticate: identity.authenticate,
    keys: keys.all,
    logger,
    settings: config.realtime,
  });

  // Services start in this order and stop in reverse: the logs first and last, the HTTP server
  // last and first (requests in flight finish before the runner and the notifier stop).
  const modules: AppModule[] = [
    usageGate,
    identity,
    vault,
    schema,
    records,
    vectors,
    aiWork,
    usage,
    actions,
    flows,
    agents,
    mcp,
    audit,
    billing,
    webhooks,
    system,
    realtime,
  ];
  const services = new ServiceList([...ops.services, ...platform.services, spine, ...modules.flatMap((m) => m.services), platform.http], (err, name) =>
    logger.error({ err, service: name }, 'service failed to stop'),
  );

  // Who is calling, then rate limits: both before any route (the limiter hooks routes as they are added).
  registerAccessGuard(app, identity.authenticate, deps.instanceToken);
  await registerRateLimit(app, {
    classify: rateLimitClass({ publicPerMinute: config.engine.publicPerMinute, apiPerMinute: config.rateLimit.apiPerMinute, routes: config.rateLimit.routes }),
    redis,
  });
  // Health, readiness and /internal in every role; the API where this process serves it.
  const api: AppModule[] = [identity, vault, audit, schema, records, vectors, actions, flows, aiWork, usage, ops, billing, agents, mcp, webhooks, realtime];
  for (const routes of [...system.routes, ...(deps.api === false ? [] : api.flatMap((m) => m.routes))]) await app.register(routes);
  await app.ready();

  return {
    app,
    identity: identity.context,
    vault: vault.context,
    events,
    runner: flows.runner,
    embeddings: aiWork.embeddings,
    records: records.context,
    vectors: vectors.context,
    triggers: flows.triggers,
    nodes,
    quotas,
    logs: ops.logs,
    realtime: realtime.hub,
    webhooks: webhooks.handle,
    services: services.names,
    start: () => services.start(),
    drain: () => system.drain(),
    close: () => services.stop(),
  };
}
