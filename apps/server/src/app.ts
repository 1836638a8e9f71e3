import path from 'node:path';
import type { Kysely } from 'kysely';
import type { Config, InstanceKeys } from './config/index.js';
import { masterKeyFromBase64, readKeyFile } from './config/index.js';
import type { Database } from './platform/db/index.js';
import { EventBus } from './platform/events/index.js';
import { type App, createHttpServer, registerRateLimit } from './platform/http/index.js';
import { tapOf } from './platform/logger.js';
import { createMailer } from './platform/mail.js';
import { openRedis } from './platform/redis.js';
import type { Logger } from './platform/logger.js';
import { rateLimitClass, registerAccessGuard } from './modules/access/index.js';
import { Quotas, type UsageTables, usageRoutes } from './modules/usage/index.js';
import { LogStore, type LogTables, Metrics, appEntryOf, observabilityRoutes } from './modules/observability/index.js';
import { billingRoutes } from './modules/billing/index.js';
import { auditRoutes } from './modules/audit/index.js';
import {
  type IdentityContext,
  type IdentityTables,
  LoginThrottle,
  PrincipalCache,
  apiKeyRoutes,
  authRoutes,
  createAuthenticator,
  flushKeyUses,
  jwtKeyFrom,
  orgRoutes,
} from './modules/identity/index.js';
import { adminRoutes, scheduleBackups, systemRoutes } from './modules/system/index.js';
import { Keyring, type VaultContext, createVaultContext, vaultRoutes } from './modules/vault/index.js';
import { ModelCache, type SchemaContext, type SchemaTables, ensureModel, schemaRoutes } from './modules/schema/index.js';
import { type RecordsContext, recordRoutes } from './modules/records/index.js';
import { type ActionTables, type ActionsContext, actionRoutes, runAction } from './modules/actions/index.js';
import { NodeError, type WriteOptions } from '@infinity/node-sdk';
import { type Notifier, localNotifier, postgresNotifier } from './platform/db/index.js';
import { OutboundHttp, OutboundRefused } from './platform/net/outbound-http.js';
import { JsSandbox } from './platform/sandbox/js-sandbox.js';
import type { FlowActor } from './modules/access/index.js';
import { type Capabilities, type ExecutionPlan } from './modules/engine/index.js';
import { NodeRegistry, builtinNodes } from './modules/nodes/index.js';
import { ExecutionRunner, type FlowTables, type FlowsContext, TriggerHub, flowRoutes, hookRoutes, subflowRunner } from './modules/flows/index.js';
import { onceInTransaction, resumeToken } from './modules/flows/index.js';
import { type TransactionGuard, getRecord, recordMatches, withRecordOps } from './modules/records/index.js';
import { revealSecret, secretUse } from './modules/vault/index.js';
import { type AiContext, type AiTables, EmbeddingWorker, aiRoutes, chat, embedTexts, monthUsage } from './modules/ai/index.js';
import { SearchWidths, searchRecords, searchWidthsOf } from './modules/records/index.js';
import {
  type AgentTables,
  type AgentsContext,
  agentRoutes,
  participantOf,
  publicChatRoutes,
  requireAgent,
  sendMessage,
  startConversation,
} from './modules/agents/index.js';
import { actionToolSpec } from './modules/actions/index.js';
import { flowToolSpec, runFlowForTool } from './modules/flows/index.js';
import { getSecret } from './modules/vault/index.js';
import { VERSION } from './version.js';

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
  events: EventBus;
  runner: ExecutionRunner;
  /** Embeds records of models with embeddings enabled (roles all and worker). */
  embeddings: EmbeddingWorker;
  /** The records service (tests wait for search-width measurements with records.widths.idle()). */
  records: RecordsContext;
  nodes: NodeRegistry;
  /** Plans and usage alerts (tests wait for alerts with settle()). */
  quotas: Quotas;
  /** The request and app logs (tests flush them). */
  logs: LogStore;
  /** Marks the app as draining (readiness fails) before in-flight requests finish. */
  drain(): void;
  close(): Promise<void>;
}

/** The composition root: wires modules onto one HTTP server. It never listens (tests use inject()). */
export async function buildApp(deps: AppDeps): Promise<BuiltApp> {
  const { config, db, logger } = deps;
  const events = new EventBus((err, event) => logger.error({ err, event: event.type }, 'event subscriber failed'));
  // Operations: the request and app logs (batched into the database), Prometheus metrics, Redis.
  const logStore = new LogStore(db.kysely as Kysely<LogTables>, {
    flushMs: 1000,
    maxBuffer: 500,
    retentionDays: config.logs.retentionDays,
    onError: (err) => logger.info({ err: { message: (err as Error).message } }, 'could not store log rows'),
  });
  const tap = tapOf(logger);
  tap?.attach((line) => {
    const e = appEntryOf(line);
    if (e) logStore.app(e);
  });
  const metrics = config.metrics ? new Metrics({ db: db.kysely, pool: db.pool as never, events }) : null;
  let redisDown = false;
  const redis = config.redisUrl
    ? openRedis(config.redisUrl, (err) => {
        if (!redisDown) logger.warn({ err: { message: (err as Error).message } }, 'Redis unreachable; rate limits count per instance until it is back');
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
    ...(config.logs.requests || metrics
      ? {
          observe: (r) => {
            if (config.logs.requests)
              logStore.request({
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
          },
        }
      : {}),
  });

  const identity: IdentityContext = {
    db: db.kysely as Kysely<IdentityTables>,
    jwtKey: jwtKeyFrom(deps.keys.jwtSecret),
    auth: config.auth,
    publicUrl: config.publicUrl,
    defaultPlan: config.plans.defaultPlan,
    cache: new PrincipalCache(),
    throttle: new LoginThrottle({ perEmail: config.auth.loginMaxFailures, perIp: config.auth.loginMaxFailuresPerIp, windowSeconds: config.auth.loginWindow }),
    keyUses: new Map(),
  };
  const embeddedKeyFile = config.database.kind === 'pglite' && !config.keys.masterKey && !config.keys.masterKeyFile;
  const keyring = new Keyring(deps.keys.all, () => {
    if (!embeddedKeyFile) return undefined;
    const file = readKeyFile(config.dataDir);
    return file?.masterKeys.map((b64, i) => masterKeyFromBase64(b64, `keys.json masterKeys[${i}]`));
  });
  const vault = createVaultContext(db.kysely, keyring);
  const mailer = createMailer(config.smtp);
  const quotas = new Quotas({ db: db.kysely as Kysely<UsageTables>, limits: config.plans.limits, events, logger, mailer, publicUrl: config.publicUrl });
  const schemaDb = db.kysely as Kysely<SchemaTables>;
  const schema: SchemaContext = { db: schemaDb, cache: new ModelCache(schemaDb), vector: db.info.vector, quota: quotas };

  registerAccessGuard(app, createAuthenticator(identity), deps.instanceToken);
  // Before any route: the limiter hooks routes as they are added.
  await registerRateLimit(app, {
    classify: rateLimitClass({ publicPerMinute: config.engine.publicPerMinute, apiPerMinute: config.rateLimit.apiPerMinute, routes: config.rateLimit.routes }),
    redis,
  });

  const outbound = new OutboundHttp({ allow: config.httpAllow });
  const ai: AiContext = {
    db: db.kysely as Kysely<AiTables>,
    vault,
    fetch: outbound.fetch,
    quota: quotas,
    ...(metrics ? { observe: (e) => metrics.observeTokens(e) } : {}),
  };
  const records: RecordsContext = {
    db: db.kysely,
    cache: schema.cache,
    events,
    vector: db.info.vector,
    embedQuery: async (actor, model, text) => (await embedTexts(ai, actor, model.embedding!, [text], `search ${model.name}`))[0]!,
    quota: quotas,
    widths: new SearchWidths({ target: config.ai.searchRecall }),
  };
  const actionsCtx: ActionsContext = { db: db.kysely as Kysely<ActionTables>, records };
  const sandbox = new JsSandbox({ workers: 2, maxInputBytes: 5 * 1024 * 1024, maxOutputBytes: 5 * 1024 * 1024, workerHeapMb: 128 });
  const nodes = new NodeRegistry(builtinNodes({ sandbox }));
  const notifier: Notifier =
    config.database.kind === 'postgres'
      ? await postgresNotifier(config.database.url, db.pool, (err) => logger.warn({ err }, 'notification connection'))
      : localNotifier();
  // Sub-flows run through the flows service, which is built after the runner: reached through this holder.
  const flowsRef: { current?: FlowsContext } = {};
  // The agent node reaches agents, whose context is built after the runner: through this holder.
  const agentsRef: { current?: AgentsContext } = {};
  const runSubflow = subflowRunner(() => flowsRef.current!);
  const capabilities = (plan: ExecutionPlan): Capabilities => ({
    ...flowCapabilities(
      { kind: 'flow', flowId: plan.flowId, executionId: plan.id, orgId: plan.orgId, role: 'editor' },
      { records, actionsCtx, vault, outbound, ai, agents: () => agentsRef.current! },
    ),
    flows: { run: (flowId, input) => runSubflow({ executionId: plan.id, orgId: plan.orgId }, flowId, input) },
  });
  const runner = new ExecutionRunner({
    db: db.kysely,
    registry: nodes,
    capabilities,
    notifier,
    events,
    logger,
    leaseMs: config.engine.leaseMs,
    concurrency: config.engine.concurrency,
    pollMs: config.engine.pollMs,
    outputCap: config.engine.outputCap,
    retentionDays: config.engine.retentionDays,
    maxReclaims: config.engine.maxReclaims,
    fault: config.engine.fault,
    quota: quotas,
    resumeUrl: (id) => `${config.publicUrl}/api/v1/executions/${id}/resume?token=${resumeToken(deps.keys.jwtSecret, id)}`,
  });
  // The hub is created after the context it uses; the context reaches it through this holder.
  const hub: { current?: TriggerHub } = {};
  const flows: FlowsContext = (flowsRef.current = {
    db: db.kysely as Kysely<FlowTables>,
    registry: nodes,
    runner,
    quota: quotas,
    resumeSecret: deps.keys.jwtSecret,
    inline: deps.worker !== false,
    onTriggersChanged: async () => hub.current?.changed(),
    activeFlow: (id) => hub.current?.activeFlow(id),
    ensureModel: async (actor, def, ip) => void (await ensureModel(schema, actor, def, ip)),
  });
  const agentsCtx: AgentsContext = {
    db: db.kysely as Kysely<AgentTables>,
    ai,
    tokenSecret: deps.keys.jwtSecret,
    tools: {
      flowSpec: (actor, id) => flowToolSpec(flows, actor, id),
      runFlow: (actor, id, input) => runFlowForTool(flows, actor, id, input),
      actionSpec: (actor, id) => actionToolSpec(actionsCtx, actor, id),
      runAction: async (actor, id, params) => {
        const run = await runAction(actionsCtx, actor, id, params);
        if (run.status === 'failed') throw new Error(`The action failed: ${(run.error as { message?: string } | null)?.message ?? 'error'}`);
        return run.output;
      },
      modelExists: async (actor, model) => (await schema.cache.get(actor.orgId)).byName.has(model),
      search: async (actor, model, q) => (await searchRecords(records, actor, model, q)).data,
      http: async (req) => {
        const r = await outbound.request({ ...req, timeoutMs: 30_000, maxBytes: 1024 * 1024 });
        return { status: r.status, body: Buffer.from(r.body).toString('utf8') };
      },
      secretProvider: async (actor, id) => (await getSecret(vault, actor, id).catch(() => null))?.provider ?? null,
    },
  };
  agentsRef.current = agentsCtx;
  const triggers = new TriggerHub({
    flows,
    db: db.kysely,
    events,
    notifier,
    logger,
    scheduler: deps.scheduler !== false,
    matches: (actor, model, filter, record) => recordMatches(records, actor, model, filter, record),
  });
  hub.current = triggers;
  await triggers.start();
  if (deps.worker !== false) runner.startWorker();
  // The embedded database: one process (no leases needed) and no autovacuum.
  const embedded = config.database.kind === 'pglite';
  const embeddings = new EmbeddingWorker({
    db: db.kysely,
    ai,
    notifier,
    events,
    cache: schema.cache,
    logger,
    vector: db.info.vector,
    batch: config.ai.embeddingBatch,
    vacuumAfter: embedded ? 1000 : 0,
    reclaimEvery: embedded ? 256 : 0,
    shared: !embedded,
    pollMs: Math.max(1000, config.engine.pollMs),
    work: deps.worker !== false,
  });
  embeddings.start();

  // Scheduled backups run in the scheduler role (run one scheduler with INFINITY_BACKUP_SCHEDULE).
  const backups =
    config.backup.schedule && deps.scheduler !== false
      ? scheduleBackups(
          { config, db: db.kysely, vault, database: db },
          { pattern: config.backup.schedule, dir: config.backup.dir, keep: config.backup.keep },
          logger,
        )
      : undefined;

  let draining = false;
  await app.register(systemRoutes({ db: db.kysely, info: db.info, draining: () => draining }));
  await app.register(adminRoutes({ config, db: db.kysely, vault, database: db }));
  if (deps.api !== false) {
    await app.register(authRoutes(identity));
    await app.register(orgRoutes(identity));
    await app.register(apiKeyRoutes(identity));
    await app.register(vaultRoutes(vault));
    await app.register(auditRoutes(db.kysely));
    await app.register(schemaRoutes(schema));
    await app.register(recordRoutes(records, { importLimit: config.importLimit }));
    await app.register(actionRoutes(actionsCtx));
    await app.register(flowRoutes(flows));
    await app.register(aiRoutes({ db: db.kysely, cache: schema.cache, searchWidths: (m) => searchWidthsOf(records, m) }));
    await app.register(usageRoutes(quotas, { db: db.kysely as Kysely<UsageTables>, tokens: (orgId) => monthUsage(ai.db, orgId) }));
    await app.register(observabilityRoutes({ db: db.kysely as Kysely<LogTables>, metrics, metricsToken: config.metricsToken }));
    await app.register(
      billingRoutes(
        { db: db.kysely, config: config.stripe, publicUrl: config.publicUrl, onPlanChanged: (orgId) => quotas.forget(orgId) },
        { bodyLimit: config.bodyLimit },
      ),
    );
    await app.register(agentRoutes(agentsCtx));
    await app.register(publicChatRoutes(agentsCtx));
    await app.register(
      hookRoutes(flows, { bodyLimit: config.bodyLimit, reveal: async (actor, id) => (await revealSecret(vault, actor, id, 'webhook signature')).value }),
    );
  }

  const flushUses = () => flushKeyUses(identity).catch((err: unknown) => logger.warn({ err }, 'could not record API key use'));
  const timer = setInterval(() => void flushUses(), 5000);
  timer.unref();

  await app.ready();
  return {
    app,
    identity,
    vault,
    events,
    runner,
    embeddings,
    records,
    nodes,
    quotas,
    logs: logStore,
    drain: () => {
      draining = true;
    },
    close: async () => {
      clearInterval(timer);
      backups?.stop();
      await triggers.close();
      await embeddings.stop();
      await app.close();
      await records.widths?.stop();
      await runner.stop(config.shutdownGrace * 1000);
      await notifier.close();
      await outbound.close();
      await sandbox.close();
      await flushUses();
      await quotas.settle();
      tap?.attach(undefined);
      await logStore.close();
      metrics?.close();
      mailer?.close();
      redis?.disconnect();
    },
  };
}

/** What a flow's nodes may use, acting as the flow (editor role) in its organization. */
function flowCapabilities(
  actor: FlowActor,
  d: { records: RecordsContext; actionsCtx: ActionsContext; vault: VaultContext; outbound: OutboundHttp; ai: AiContext; agents: () => AgentsContext },
): Omit<Capabilities, 'flows'> {
  const source = `flow ${actor.flowId}`;
  // A write with an idempotency key is applied once per execution and key, in its own transaction.
  const once = (opts: WriteOptions | undefined): TransactionGuard | undefined => {
    const key = opts?.idempotencyKey;
    return key ? (trx, run) => onceInTransaction(trx, actor.executionId, key, run) : undefined;
  };
  // The secrets this execution uses: where they may be sent, and what to mask in its records.
  const used = secretUse(d.vault, actor, source);
  return {
    records: {
      query: async (model, q = {}) =>
        (
          await withRecordOps(d.records, actor, (ops) =>
            ops.query(model, {
              ...(q.filter ? { filter: q.filter } : {}),
              ...(q.sort ? { sort: q.sort } : {}),
              ...(q.limit ? { limit: q.limit } : {}),
              ...(q.offset ? { offset: q.offset } : {}),
            }),
          )
        ).items,
      get: (model, id) => getRecord(d.records, actor, model, id),
      create: (model, values, opts) => withRecordOps(d.records, actor, (ops) => ops.create(model, values), once(opts)),
      update: (model, id, values, opts) => withRecordOps(d.records, actor, (ops) => ops.update(model, id, values), once(opts)),
      delete: async (model, id, opts) => {
        await withRecordOps(d.records, actor, (ops) => ops.remove(model, id), once(opts));
      },
      search: async (model, q) => (await searchRecords(d.records, actor, model, { k: 10, mode: 'vector', ...q })).data.map((r) => ({ score: r._score, ...r })),
    },
    ai: {
      chat: async (call) => {
        const r = await chat(d.ai, actor, { ...call, source });
        return {
          text: r.text,
          ...(r.object === undefined ? {} : { object: r.object }),
          provider: r.provider,
          model: r.model,
          finishReason: r.finishReason,
          usage: r.usage,
          latencyMs: r.latencyMs,
        };
      },
      embed: (call) =>
        embedTexts(
          d.ai,
          actor,
          {
            provider: call.provider,
            model: call.model ?? (call.provider === 'local' ? 'local-lexical' : 'text-embedding-ada-002'),
            dimensions: call.dimensions ?? 1536,
            secretId: call.secretId,
          },
          call.texts,
          source,
        ),
      agent: async (agentId, message, conversationId) => {
        const ctx = d.agents();
        const agent = await requireAgent(ctx, actor, agentId);
        const cid = conversationId ?? (await startConversation(ctx, agent, participantOf(actor))).id;
        const r = await sendMessage(ctx, agent, { conversationId: cid, content: message, caller: actor });
        return {
          conversationId: cid,
          text: r.message.content,
          toolCalls: r.toolCalls.map((t) => ({ name: t.name, input: t.input, output: t.output })),
          usage: r.usage,
        };
      },
    },
    actions: {
      run: async (id, params, opts) => {
        const run = await runAction(d.actionsCtx, actor, id, params, once(opts));
        if (run.status === 'failed') {
          const e = run.error as { code?: string; message?: string } | null;
          throw new NodeError(`Action failed: ${e?.message ?? 'error'}`, {
            code: e?.code ?? 'ACTION_RUN_FAILED',
            details: { runId: run.id },
            retryable: false,
          });
        }
        return run.output;
      },
    },
    secrets: { reveal: (id) => used.reveal(id) },
    redact: (value) => used.redact(value),
    http: {
      request: async (req) => {
        used.checkOutbound(req);
        try {
          return await d.outbound.request({ ...req, onRedirect: (next) => used.checkOutbound(req, next) });
        } catch (err) {
          if (err instanceof OutboundRefused) throw new NodeError(err.message, { code: 'HTTP_REFUSED', details: { reason: err.reason }, retryable: false });
          throw err;
        }
      },
    },
  };
}
