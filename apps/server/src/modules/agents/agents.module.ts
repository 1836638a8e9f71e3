import type { AiCapability } from '@infinity/node-sdk';
import type { Kysely, TablesOf } from '../../platform/db/index.js';
import type { EventSpine } from '../../platform/events/index.js';
import type { AppModule } from '../../platform/module.js';
import type { OutboundHttp } from '../../platform/net/outbound-http.js';
import type { FlowActor, OrgActor } from '../access/index.js';
import { type ActionsContext, actionToolSpec, runAction } from '../actions/index.js';
import type { AiContext } from '../ai/index.js';
import { type VectorsContext, searchRecords } from '../vectors/index.js';
import type { SchemaContext } from '../schema/index.js';
import { type VaultContext, getSecret } from '../vault/index.js';
import { McpServers } from './agents.mcp.js';
import type { AgentTables } from './agents.repo.js';
import { agentRoutes, publicChatRoutes } from './agents.routes.js';
import { type AgentToolDeps, type AgentsContext, participantOf, requireAgent, sendMessage, startConversation } from './agents.service.js';

/** Flows as tools (offered by the flows module; the agents module does not import it). */
export interface FlowToolAccess {
  spec: AgentToolDeps['flowSpec'];
  run: AgentToolDeps['runFlow'];
}

export interface AgentsNeeds {
  db: Kysely<object>;
  ai: AiContext;
  /** Signs conversation tokens of published agents. */
  tokenSecret: Uint8Array;
  actions: ActionsContext;
  vectors: VectorsContext;
  schema: SchemaContext;
  vault: VaultContext;
  outbound: OutboundHttp;
  flows: FlowToolAccess;
  /** agent.status and agent.step are published on it. */
  events: EventSpine;
}

/** The message of a failed action run's stored error, whatever its shape. */
function messageOf(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string') return error.message;
  return 'error';
}

/** What an agent's tools reach: flows, actions, records search, outbound HTTP (SSRF-guarded) and secrets' providers. */
function agentTools(n: AgentsNeeds): AgentToolDeps {
  return {
    flowSpec: (actor, id) => n.flows.spec(actor, id),
    runFlow: (actor, id, input) => n.flows.run(actor, id, input),
    actionSpec: (actor, id) => actionToolSpec(n.actions, actor, id),
    runAction: async (actor, id, params) => {
      const run = await runAction(n.actions, actor, id, params);
      if (run.status === 'failed') throw new Error(`The action failed: ${messageOf(run.error)}`);
      return run.output;
    },
    modelExists: async (actor, model) => (await n.schema.cache.get(actor.orgId)).byName.has(model),
    search: async (actor, model, q) => (await searchRecords(n.vectors, actor, model, q)).data,
    http: async (req) => {
      const r = await n.outbound.request({ ...req, timeoutMs: 30_000, maxBytes: 1024 * 1024 });
      return { status: r.status, body: Buffer.from(r.body).toString('utf8') };
    },
    secretProvider: async (actor: OrgActor, id) => (await getSecret(n.vault, actor, id).catch(() => null))?.provider ?? null,
    mcp: new McpServers({ outbound: n.outbound, vault: n.vault }),
  };
}

/** The agents service's context: its tables, model calls and tools. */
export function agentsContext(n: AgentsNeeds): AgentsContext {
  return { db: n.db.withTables<TablesOf<AgentTables>>(), ai: n.ai, tokenSecret: n.tokenSecret, tools: agentTools(n), events: n.events };
}

/** The agent node of a flow: a message to an agent of the flow's organization (a new conversation unless one is given). */
export function agentNode(ctx: AgentsContext, actor: FlowActor): AiCapability['agent'] {
  return async (agentId, message, conversationId) => {
    const agent = await requireAgent(ctx, actor, agentId);
    const cid = conversationId ?? (await startConversation(ctx, agent, participantOf(actor))).id;
    const r = await sendMessage(ctx, agent, { conversationId: cid, content: message, caller: actor });
    return {
      conversationId: cid,
      text: r.message.content,
      toolCalls: r.toolCalls.map((t) => ({ name: t.name, input: t.input, output: t.output })),
      usage: r.usage,
    };
  };
}

/** Agents and their conversations (built after flows, whose runs are an agent's flow tools). */
export function agentsModule(n: AgentsNeeds): AppModule & { context: AgentsContext } {
  const context = agentsContext(n);
  return { name: 'agents', context, routes: [agentRoutes(context), publicChatRoutes(context)], services: [] };
}
