import type { Config } from '../../config/index.js';
import type { Kysely, Notifier, TablesOf } from '../../platform/db/index.js';
import type { EventSpine } from '../../platform/events/index.js';
import type { Logger } from '../../platform/logger.js';
import type { AppModule } from '../../platform/module.js';
import type { FlowActor, OrgActor } from '../access/index.js';
import type { NodeRegistry } from '../nodes/index.js';
import { recordMatches } from '../records/index.js';
import { type SchemaContext, ensureModel } from '../schema/index.js';
import type { QuotaGate } from '../usage/index.js';
import { revealSecret } from '../vault/index.js';
import { type AgentNode, type NodeServices, flowCapabilities } from './flow-capabilities.js';
import type { FlowTables } from './flows.repo.js';
import { flowRoutes } from './flows.routes.js';
import { type FlowRunContext, type FlowsContext, flowToolSpec, runFlowForTool, subflowRunner } from './flows.service.js';
import { hookRoutes } from './hooks.routes.js';
import { ExecutionRunner } from './runner.js';
import { TriggerHub } from './triggers.js';
import { resumeToken } from './webhook-auth.js';

/** Flows as an agent's tools: a flow's tool description, and a run that answers with its output. */
export interface FlowTools {
  spec(actor: OrgActor, flowId: string): ReturnType<typeof flowToolSpec>;
  run(actor: OrgActor, flowId: string, input: unknown): Promise<unknown>;
}

export interface FlowsNeeds {
  db: Kysely<object>;
  registry: NodeRegistry;
  notifier: Notifier;
  events: EventSpine;
  logger: Logger;
  quota: QuotaGate;
  schema: SchemaContext;
  /** What nodes reach besides other flows: records, AI, actions, secrets, outbound HTTP. */
  services: NodeServices;
  /**
   * The agent node for one flow actor. `flows` runs flows on this module's runner: an agent's flow
   * tools, called from a flow, start executions where the calling flow runs.
   */
  agentNode: (actor: FlowActor, flows: FlowTools) => AgentNode;
  engine: Config['engine'];
  publicUrl: string;
  bodyLimit: number;
  /** Signs resume URLs of waiting executions. */
  resumeSecret: Uint8Array;
  shutdownGraceMs: number;
  /** Claim queued executions and run them inline (roles all and worker). */
  worker: boolean;
  /** Fire schedule triggers (roles all and scheduler). */
  scheduler: boolean;
}

export interface FlowsModule extends AppModule {
  context: FlowsContext;
  runner: ExecutionRunner;
  /** Record and schedule triggers (tests deliver record events to it again). */
  triggers: TriggerHub;
  /** Flows as tools of the agents module. */
  tools: FlowTools;
}

const toolsOf = (run: FlowRunContext): FlowTools => ({
  spec: (actor, id) => flowToolSpec(run, actor, id),
  run: (actor, id, input) => runFlowForTool(run, actor, id, input),
});

/**
 * Flows, their executions and triggers. Built in dependency order, without holders:
 *
 *   runner ──(per execution: capabilities(plan, runner))──▶ nodes' records/AI/actions/HTTP,
 *      │                                                    sub-flows and agent tools on `runner`
 *      ├─▶ run context {db, runner, inline} ──▶ trigger hub (fires flows)
 *      └─────────────────────────────────────▶ flows context (API: saves tell the hub)
 */
export function flowsModule(n: FlowsNeeds): FlowsModule {
  const db = n.db.withTables<TablesOf<FlowTables>>();
  const inline = n.worker;
  const subflows = subflowRunner();
  const runner = new ExecutionRunner({
    db: n.db,
    registry: n.registry,
    // The runner hands itself over: sub-flows and an agent's flow tools start executions on it.
    capabilities: (plan, self) => {
      const run: FlowRunContext = { db, runner: self, inline };
      const actor: FlowActor = { kind: 'flow', flowId: plan.flowId, executionId: plan.id, orgId: plan.orgId, role: 'editor' };
      return {
        // Built when an agent node runs, not for every execution (the hot path of pure flows).
        ...flowCapabilities(actor, {
          ...n.services,
          agent: (agentId, message, conversationId) => n.agentNode(actor, toolsOf(run))(agentId, message, conversationId),
        }),
        flows: { run: (flowId, input) => subflows(run, { executionId: plan.id, orgId: plan.orgId }, flowId, input) },
      };
    },
    notifier: n.notifier,
    events: n.events,
    logger: n.logger,
    leaseMs: n.engine.leaseMs,
    concurrency: n.engine.concurrency,
    pollMs: n.engine.pollMs,
    outputCap: n.engine.outputCap,
    retentionDays: n.engine.retentionDays,
    maxReclaims: n.engine.maxReclaims,
    fault: n.engine.fault,
    quota: n.quota,
    resumeUrl: (id) => `${n.publicUrl}/api/v1/executions/${id}/resume?token=${resumeToken(n.resumeSecret, id)}`,
  });
  const run: FlowRunContext = { db, runner, inline };
  // NB: the hub's wiring, in one place. It fires flows through the run context; saves reach it below.
  // Record and schedule triggers; their table of active flows follows flow.saved events (any process).
  const triggers = new TriggerHub({
    db: n.db,
    run,
    events: n.events,
    logger: n.logger,
    scheduler: n.scheduler,
    matches: (actor, model, filter, record) => recordMatches(n.services.records, actor, model, filter, record),
  });
  // Events missed while the transport was down: read the active flows again.
  n.events.onResync(() => void triggers.reload());
  const context: FlowsContext = {
    ...run,
    registry: n.registry,
    quota: n.quota,
    resumeSecret: n.resumeSecret,
    events: n.events,
    triggers,
    ensureModel: async (actor, def, ip) => void (await ensureModel(n.schema, actor, def, ip)),
  };
  const vault = n.services.vault;
  return {
    name: 'flows',
    context,
    runner,
    triggers,
    tools: toolsOf(run),
    routes: [
      flowRoutes(context),
      hookRoutes(context, { bodyLimit: n.bodyLimit, reveal: async (actor, id) => (await revealSecret(vault, actor, id, 'webhook signature')).value }),
    ],
    services: [
      {
        // Leases of executions run here are renewed in every role; only workers claim queued ones.
        name: 'executions',
        start: () => {
          runner.startLeases();
          if (n.worker) runner.startWorker();
        },
        stop: () => runner.stop(n.shutdownGraceMs),
      },
      // After the runner: a trigger that fires runs on it. Stops first, so nothing fires into a stopping runner.
      { name: 'triggers', start: () => triggers.start(), stop: () => triggers.close() },
    ],
  };
}
