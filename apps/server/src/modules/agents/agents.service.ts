import { type Agent, type Role, roleAtLeast } from '@infinity/contracts';
import { type ModelMessage, type ToolSet, jsonSchema, tool } from 'ai';
import { type Kysely, sql } from 'kysely';
import { capabilityToken, capabilityTokenValid } from '../../platform/crypto/index.js';
import { type Expected, isCurrent, preconditionFailed } from '../../platform/concurrency.js';
import { inTransaction, isUniqueViolation, vectorLiteral } from '../../platform/db/index.js';
import type { EventSpine } from '../../platform/events/index.js';
import { newId } from '../../platform/ids.js';
import { type OrgActor, actorRef, actorUserId, can } from '../access/index.js';
import { type AiContext, chat, localEmbed } from '../ai/index.js';
import { recordAudit } from '../audit/index.js';
import { agentErrors } from './agents.errors.js';
import { ReplyEvents, emitAgentStatus } from './agents.events.js';
import type { McpServers } from './agents.mcp.js';
import * as repo from './agents.repo.js';
import type { AgentCreate, AgentPatch, AgentTool } from './agents.schemas.js';

/** What tools reach, wired by the composition root (flows, actions, records, the SSRF guard). */
export interface AgentToolDeps {
  flowSpec(actor: OrgActor, flowId: string): Promise<{ name: string; description: string; inputSchema: Record<string, unknown> } | null>;
  runFlow(actor: OrgActor, flowId: string, input: unknown): Promise<unknown>;
  actionSpec(actor: OrgActor, actionId: string): Promise<{ name: string; description: string; inputSchema: Record<string, unknown> } | null>;
  runAction(actor: OrgActor, actionId: string, params: Record<string, unknown>): Promise<unknown>;
  modelExists(actor: OrgActor, model: string): Promise<boolean>;
  search(
    actor: OrgActor,
    model: string,
    q: { query: string; k: number; mode: 'vector' | 'keyword' | 'hybrid'; filter?: Record<string, unknown> },
  ): Promise<Record<string, unknown>[]>;
  http(req: { method: string; url: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; body: string }>;
  secretProvider(actor: OrgActor, secretId: string): Promise<string | null>;
  /** External MCP servers (agents.mcp.ts): checked on save, their tools listed and called per turn. */
  mcp: Pick<McpServers, 'problem' | 'list' | 'call'>;
}

export interface AgentsContext {
  db: Kysely<repo.AgentTables>;
  ai: AiContext;
  tools: AgentToolDeps;
  /** Signs conversation tokens of published agents. */
  tokenSecret: Uint8Array;
  /** agent.status and agent.step (agents.events.ts). */
  events: EventSpine;
}

export const toAgent = (r: repo.AgentRow) =>
  ({
    id: r.id,
    name: r.name,
    description: r.description,
    provider: r.provider,
    model: r.model,
    secretId: r.secret_id,
    system: r.system,
    personality: r.personality,
    voice: r.voice,
    memory: r.memory,
    memoryTokens: r.memory_tokens,
    tools: r.tools,
    maxSteps: r.max_steps,
    temperature: r.temperature,
    status: r.status,
    slug: r.slug,
    createdBy: r.created_by,
    version: r.version,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  }) satisfies Agent;
export type AgentDto = ReturnType<typeof toAgent>;

/** The agent acting inside its organization: it reads the key and runs its tools, as an editor. */
const agentActor = (a: { id: string; org_id: string }, role: Role = 'editor'): OrgActor => ({
  kind: 'service',
  service: `agent:${a.id}`,
  orgId: a.org_id,
  role,
});

/**
 * The role an agent's tools act with in one turn: the agent's own (editor), never above whoever
 * is chatting — a viewer's chat cannot make a tool run a flow or write. A published agent's
 * consumers (no account, `caller` null) get the agent's own role: its owner made it public.
 */
function toolRole(caller: OrgActor | null): Role {
  if (!caller || roleAtLeast(caller.role, 'editor')) return 'editor';
  return caller.role;
}

/** Every reference must exist in this organization, and the secret must be for the agent's provider. */
async function assertValid(ctx: AgentsContext, actor: OrgActor, a: { provider: string; secretId: string; tools: AgentTool[] }) {
  const problems: { field: string; code: string; message: string }[] = [];
  const provider = await ctx.tools.secretProvider(actor, a.secretId);
  if (!provider) problems.push({ field: 'secretId', code: 'not_found', message: 'no such secret in this organization' });
  else if (provider !== a.provider)
    problems.push({ field: 'secretId', code: 'provider_mismatch', message: `the secret is for ${provider}, the agent uses ${a.provider}` });
  for (const [i, t] of a.tools.entries()) {
    const at = `tools.${i}`;
    if (t.kind === 'flow' && !(await ctx.tools.flowSpec(actor, t.ref))) problems.push({ field: `${at}.ref`, code: 'not_found', message: 'no such flow' });
    if (t.kind === 'action' && !(await ctx.tools.actionSpec(actor, t.ref))) problems.push({ field: `${at}.ref`, code: 'not_found', message: 'no such action' });
    if (t.kind === 'search' && !(await ctx.tools.modelExists(actor, t.model)))
      problems.push({ field: `${at}.model`, code: 'not_found', message: `no model "${t.model}"` });
    if (t.kind === 'mcp') {
      const p = await ctx.tools.mcp.problem(actor, t);
      if (p) problems.push({ field: `${at}.${p.field}`, code: p.code, message: p.message });
    }
  }
  const names = a.tools.map((t) => t.name).filter(Boolean);
  if (new Set(names).size !== names.length) problems.push({ field: 'tools', code: 'duplicate', message: 'two tools have the same name' });
  if (problems.length)
    throw agentErrors.AGENT_INVALID(`The agent has ${problems.length} problem(s): ${problems[0]!.field}: ${problems[0]!.message}.`, problems);
}

export async function createAgent(ctx: AgentsContext, actor: OrgActor, input: AgentCreate, ip: string): Promise<AgentDto> {
  await assertValid(ctx, actor, input);
  await ctx.ai.quota.check(actor.orgId, 'agents', 1);
  const id = newId();
  const row = await inTransaction(ctx.db, async (uow) => {
    const { trx } = uow;
    const r = await trx
      .insertInto('agents')
      .values({
        id,
        org_id: actor.orgId,
        name: input.name,
        description: input.description,
        provider: input.provider,
        model: input.model,
        secret_id: input.secretId,
        system: input.system,
        personality: JSON.stringify(input.personality),
        voice: input.voice && JSON.stringify(input.voice),
        memory: input.memory,
        memory_tokens: input.memoryTokens,
        tools: JSON.stringify(input.tools),
        max_steps: input.maxSteps,
        temperature: input.temperature,
        status: input.status,
        created_by: actorUserId(actor),
      })
      .returning(repo.agentColumns)
      .executeTakeFirstOrThrow();
    await recordAudit(trx, {
      orgId: actor.orgId,
      actor,
      action: 'AGENT_CREATE',
      target: { type: 'agent', id },
      ip,
      details: { name: input.name, provider: input.provider, model: input.model },
    });
    if (input.status === 'active') {
      await recordAudit(trx, {
        orgId: actor.orgId,
        actor,
        action: 'AGENT_DEPLOY',
        target: { type: 'agent', id },
        ip,
        details: { model: input.model, tools: input.tools.length },
      });
      emitAgentStatus(ctx.events, uow, r, 'active', actor);
    }
    return r;
  });
  ctx.ai.quota.grew(actor.orgId, 'agents', 1);
  return toAgent(row);
}

export async function requireAgent(ctx: AgentsContext, actor: OrgActor, id: string): Promise<repo.AgentRow> {
  const row = await repo.findAgent(ctx.db, actor.orgId, id);
  if (!row) throw agentErrors.AGENT_NOT_FOUND();
  return row;
}

/** `expected` (If-Match) is checked against the row locked in the write's transaction. */
export async function updateAgent(ctx: AgentsContext, actor: OrgActor, id: string, patch: AgentPatch, ip: string, expected?: Expected): Promise<AgentDto> {
  const current = await requireAgent(ctx, actor, id);
  // References are checked when they change (renaming or pausing an agent reads nothing else).
  if (patch.provider !== undefined || patch.secretId !== undefined || patch.tools !== undefined) {
    await assertValid(ctx, actor, {
      provider: patch.provider ?? current.provider,
      secretId: patch.secretId ?? current.secret_id,
      tools: patch.tools ?? current.tools,
    });
  }
  const row = await inTransaction(ctx.db, async (uow) => {
    const { trx } = uow;
    const locked = await repo.lockAgent(trx, actor.orgId, id);
    if (!locked) throw agentErrors.AGENT_NOT_FOUND();
    if (!isCurrent(expected, locked.version)) throw preconditionFailed('agent', locked.version);
    const r = await trx
      .updateTable('agents')
      .set((e) => ({
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        ...(patch.provider !== undefined ? { provider: patch.provider } : {}),
        ...(patch.model !== undefined ? { model: patch.model } : {}),
        ...(patch.secretId !== undefined ? { secret_id: patch.secretId } : {}),
        ...(patch.system !== undefined ? { system: patch.system } : {}),
        ...(patch.personality !== undefined ? { personality: JSON.stringify(patch.personality) } : {}),
        ...(patch.voice !== undefined ? { voice: patch.voice && JSON.stringify(patch.voice) } : {}),
        ...(patch.memory !== undefined ? { memory: patch.memory } : {}),
        ...(patch.memoryTokens !== undefined ? { memory_tokens: patch.memoryTokens } : {}),
        ...(patch.tools !== undefined ? { tools: JSON.stringify(patch.tools) } : {}),
        ...(patch.maxSteps !== undefined ? { max_steps: patch.maxSteps } : {}),
        ...(patch.temperature !== undefined ? { temperature: patch.temperature } : {}),
        ...(patch.status !== undefined ? { status: patch.status } : {}),
        version: e('version', '+', 1),
        updated_at: new Date(),
      }))
      .where('org_id', '=', actor.orgId)
      .where('id', '=', id)
      .returning(repo.agentColumns)
      .executeTakeFirstOrThrow();
    await recordAudit(trx, {
      orgId: actor.orgId,
      actor,
      action: 'AGENT_UPDATE',
      target: { type: 'agent', id },
      ip,
      details: { fields: Object.keys(patch).filter((k) => patch[k as keyof AgentPatch] !== undefined) },
    });
    if (patch.status && patch.status !== locked.status) {
      await recordAudit(trx, {
        orgId: actor.orgId,
        actor,
        action: patch.status === 'active' ? 'AGENT_DEPLOY' : 'AGENT_PAUSE',
        target: { type: 'agent', id },
        ip,
        details: { model: r.model },
      });
      emitAgentStatus(ctx.events, uow, r, patch.status, actor);
    }
    return r;
  });
  return toAgent(row);
}

export async function deleteAgent(ctx: AgentsContext, actor: OrgActor, id: string, ip: string, expected?: Expected): Promise<void> {
  await inTransaction(ctx.db, async ({ trx }) => {
    const locked = await repo.lockAgent(trx, actor.orgId, id);
    if (!locked) throw agentErrors.AGENT_NOT_FOUND();
    if (!isCurrent(expected, locked.version)) throw preconditionFailed('agent', locked.version);
    const r = await trx.deleteFrom('agents').where('org_id', '=', actor.orgId).where('id', '=', id).returning(['name']).executeTakeFirst();
    if (!r) throw agentErrors.AGENT_NOT_FOUND();
    await recordAudit(trx, { orgId: actor.orgId, actor, action: 'AGENT_DELETE', target: { type: 'agent', id }, ip, details: { name: r.name } });
  });
}

export async function publishAgent(ctx: AgentsContext, actor: OrgActor, id: string, slug: string | null, ip: string): Promise<AgentDto> {
  await requireAgent(ctx, actor, id);
  if (slug && actor.role !== 'owner') throw agentErrors.AGENT_PUBLIC_OWNER_ONLY();
  const row = await inTransaction(ctx.db, async ({ trx }) => {
    const r = await trx
      .updateTable('agents')
      .set((e) => ({ slug, version: e('version', '+', 1), updated_at: new Date() }))
      .where('org_id', '=', actor.orgId)
      .where('id', '=', id)
      .returning(repo.agentColumns)
      .executeTakeFirstOrThrow();
    await recordAudit(trx, {
      orgId: actor.orgId,
      actor,
      action: slug ? 'AGENT_PUBLISH' : 'AGENT_UNPUBLISH',
      target: { type: 'agent', id },
      ip,
      details: { slug },
    });
    return r;
  }).catch((err: unknown) => {
    if (isUniqueViolation(err)) throw agentErrors.AGENT_SLUG_TAKEN();
    throw err;
  });
  return toAgent(row);
}

export async function agentStatus(ctx: AgentsContext, actor: OrgActor, id: string) {
  const a = await requireAgent(ctx, actor, id);
  const r = await sql<{ conversations: number; messages: number; input: string | null; output: string | null; last: Date | null }>`
    select (select count(*)::int from conversations where agent_id = ${id}) as conversations,
      count(*)::int as messages,
      sum((usage ->> 'inputTokens')::bigint) as input, sum((usage ->> 'outputTokens')::bigint) as output, max(created_at) as last
    from agent_messages where agent_id = ${id}`.execute(ctx.db);
  const s = r.rows[0];
  return {
    id,
    status: a.status,
    published: a.slug !== null,
    conversations: s?.conversations ?? 0,
    messages: s?.messages ?? 0,
    tokens: { input: Number(s?.input ?? 0), output: Number(s?.output ?? 0) },
    lastMessageAt: s?.last ? s.last.toISOString() : null,
  };
}

// ---- conversations -------------------------------------------------------------------------

export const conversationToken = (secret: Uint8Array, conversationId: string): string => capabilityToken(secret, 'conversation', conversationId);
export const conversationTokenValid = (secret: Uint8Array, conversationId: string, given: string): boolean =>
  capabilityTokenValid(secret, 'conversation', conversationId, given);

export async function startConversation(ctx: AgentsContext, agent: repo.AgentRow, participant: string, title = '') {
  const id = newId();
  const r = await ctx.db
    .insertInto('conversations')
    .values({ id, org_id: agent.org_id, agent_id: agent.id, participant, title: title.slice(0, 200) })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { id: r.id, agentId: r.agent_id, title: r.title, createdAt: r.created_at.toISOString() };
}

export async function requireConversation(ctx: AgentsContext, agentId: string, id: string) {
  const c = await repo.findConversation(ctx.db, agentId, id);
  if (!c) throw agentErrors.CONVERSATION_NOT_FOUND();
  return c;
}

export async function listMessages(ctx: AgentsContext, agentId: string, conversationId: string, limit: number, offset: number) {
  await requireConversation(ctx, agentId, conversationId);
  return (await repo.listMessages(ctx.db, conversationId, limit, offset)).map((m) => ({
    id: m.id,
    role: m.role,
    content: m.content,
    tool: m.tool,
    usage: m.usage,
    createdAt: m.created_at.toISOString(),
  }));
}

export interface MessageEvents {
  onDelta?: (text: string) => void;
  onToolCall?: (c: { id: string; name: string; input: unknown }) => void;
  onToolResult?: (r: { id: string; name: string; output: unknown; error?: string }) => void;
}

export interface Reply {
  conversationId: string;
  message: { id: string; role: 'assistant'; content: string; createdAt: string };
  toolCalls: { id: string; name: string; input: unknown; output: unknown; error?: string }[];
  usage: { inputTokens: number; outputTokens: number };
}

const MEMORY_DIMS = 256;
const RECALL = 4;
const RECALL_MIN_SCORE = 0.25;
/** ~4 characters a token: the budget check needs no tokenizer round trip per message. */
const approxTokens = (s: string) => Math.ceil(s.length / 4) + 4;
const clip = (v: unknown, max = 20_000) => {
  const s = JSON.stringify(v) ?? 'null';
  return s.length > max ? `${s.slice(0, max)}… [truncated]` : v;
};

function personalityText(p: { empathy: number; confidence: number; style: string }): string {
  const empathy =
    p.empathy >= 0.67
      ? 'warm and empathetic: acknowledge how the user feels'
      : p.empathy <= 0.33
        ? 'matter-of-fact: keep to the facts'
        : 'friendly and to the point';
  const confidence =
    p.confidence >= 0.67
      ? 'answer decisively, without hedging'
      : p.confidence <= 0.33
        ? 'careful: say when you are unsure and offer alternatives'
        : 'clear, mentioning real uncertainty';
  return `Tone: ${empathy}; ${confidence}; style: ${p.style}.`;
}

/**
 * The tools of an agent as AI SDK tools; each runs as the agent in its organization with `role`.
 * Tools that need more than the role holds are not offered at all: flows (flows:run), actions
 * (actions:write) and HTTP methods other than GET (records:write stands for "may write").
 */
async function buildTools(ctx: AgentsContext, agent: repo.AgentRow, role: Role): Promise<ToolSet | undefined> {
  const actor = agentActor(agent, role);
  const writes = can(role, 'records:write');
  const set: ToolSet = {};
  const unique = (name: string) => {
    let n = name.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 60) || 'tool';
    for (let i = 2; n in set; i++) n = `${n.slice(0, 58)}_${i}`;
    return n;
  };
  for (const t of agent.tools) {
    if (t.kind === 'flow') {
      if (!can(role, 'flows:run')) continue;
      const spec = await ctx.tools.flowSpec(actor, t.ref);
      if (!spec) continue;
      set[unique(t.name ?? `flow_${spec.name}`)] = tool({
        description: t.description ?? (spec.description || `Runs the flow "${spec.name}" and returns its output.`),
        inputSchema: jsonSchema(spec.inputSchema as never),
        execute: async (input: unknown) => clip(await ctx.tools.runFlow(actor, t.ref, input)),
      });
    } else if (t.kind === 'action') {
      if (!can(role, 'actions:write')) continue;
      const spec = await ctx.tools.actionSpec(actor, t.ref);
      if (!spec) continue;
      set[unique(t.name ?? `action_${spec.name}`)] = tool({
        description: t.description ?? (spec.description || `Runs the action "${spec.name}".`),
        inputSchema: jsonSchema(spec.inputSchema as never),
        execute: async (input: unknown) => clip(await ctx.tools.runAction(actor, t.ref, (input ?? {}) as Record<string, unknown>)),
      });
    } else if (t.kind === 'search') {
      set[unique(t.name ?? `search_${t.model}`)] = tool({
        description: t.description ?? `Searches the "${t.model}" records most relevant to a query; returns them with a relevance score.`,
        inputSchema: jsonSchema<{ query: string; filter?: Record<string, unknown> }>({
          type: 'object',
          properties: {
            query: { type: 'string', description: 'what to look for' },
            filter: { type: 'object', description: 'optional records filter, e.g. {"status":{"eq":"open"}}' },
          },
          required: ['query'],
          additionalProperties: false,
        }),
        execute: async ({ query, filter }) => clip(await ctx.tools.search(actor, t.model, { query, k: t.k, mode: t.mode, ...(filter ? { filter } : {}) })),
      });
    } else if (t.kind === 'mcp') {
      await addMcpTools(ctx, actor, t, writes, (name, made) => (set[unique(name)] = made));
    } else {
      set[unique(t.name ?? 'http_request')] = tool({
        description: t.description ?? `Makes an HTTP request${t.ref ? ` to a URL under ${t.ref}` : ''} and returns the status and body.`,
        inputSchema: jsonSchema<{ method: string; url: string; body?: string }>({
          type: 'object',
          properties: {
            method: { type: 'string', enum: writes ? ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] : ['GET'] },
            url: { type: 'string' },
            body: { type: 'string' },
          },
          required: ['method', 'url'],
          additionalProperties: false,
        }),
        execute: async ({ method, url, body }) => {
          if (!writes && method !== 'GET') throw new Error('Only GET requests are allowed in this conversation (your role cannot write).');
          if (t.ref && !url.startsWith(t.ref)) throw new Error(`Only URLs under ${t.ref} are allowed for this tool.`);
          const r = await ctx.tools.http({ method, url, ...(body !== undefined ? { body, headers: { 'content-type': 'application/json' } } : {}) });
          return { status: r.status, body: r.body.slice(0, 20_000) };
        },
      });
    }
  }
  return Object.keys(set).length ? set : undefined;
}

/**
 * The tools of an external MCP server (its allow-list applied; for a caller who cannot write, only
 * those the server marks read-only). A server that cannot be reached offers no tools this turn:
 * the agent still answers with its others.
 */
async function addMcpTools(
  ctx: AgentsContext,
  actor: OrgActor,
  t: Extract<AgentTool, { kind: 'mcp' }>,
  writes: boolean,
  add: (name: string, made: ToolSet[string]) => void,
): Promise<void> {
  const listed = await ctx.tools.mcp.list(actor, t).catch(() => []);
  for (const remote of listed) {
    if (t.tools && !t.tools.includes(remote.name)) continue;
    if (!writes && !remote.readOnly) continue;
    add(
      t.name ? `${t.name}_${remote.name}` : remote.name,
      tool({
        description: remote.description || `The ${remote.name} tool of the MCP server at ${new URL(t.url).host}.`,
        inputSchema: jsonSchema(remote.inputSchema as never),
        execute: async (input: unknown) => clip(await ctx.tools.mcp.call(actor, t, remote.name, (input ?? {}) as Record<string, unknown>)),
      }),
    );
  }
}

/** What the agent remembers from this participant's other conversations (long-term memory). */
async function recall(ctx: AgentsContext, agent: repo.AgentRow, participant: string, conversationId: string, vector: number[]): Promise<string[]> {
  const r = await sql<{ role: string; content: string; score: number }>`
    select m.role, m.content, public.infinity_dot(m.embedding, ${vectorLiteral(vector, false)}::real[]) as score
    from agent_messages m join conversations c on c.id = m.conversation_id
    where m.agent_id = ${agent.id} and c.participant = ${participant} and m.conversation_id <> ${conversationId} and m.embedding is not null
    order by score desc limit ${RECALL}`.execute(ctx.db);
  return r.rows
    .filter((x) => Number(x.score) >= RECALL_MIN_SCORE)
    .map((x) => `${x.role === 'user' ? 'The user said' : 'You said'}: ${x.content.slice(0, 1000)}`);
}

/** One message to an agent; `caller` is who is chatting (null: a consumer of a published agent). */
export interface Turn {
  conversationId: string;
  content: string;
  caller: OrgActor | null;
}

/**
 * One turn: the user's message is stored, the history that fits the token budget (plus, with
 * long-term memory, what is recalled from earlier conversations) goes to the model with the
 * agent's tools (those the caller's role allows); tool calls run and are stored; the reply is
 * stored with its token usage. On the event spine (whichever route asked, streamed or not):
 * agent.status `thinking`, the reply's agent.step events as they happen, `finish` once the reply
 * is committed (or `error`), then `idle`.
 */
export async function sendMessage(ctx: AgentsContext, agent: repo.AgentRow, turn: Turn, events: MessageEvents = {}, signal?: AbortSignal): Promise<Reply> {
  if (agent.status !== 'active') throw agentErrors.AGENT_PAUSED();
  const conv = await requireConversation(ctx, agent.id, turn.conversationId);
  const steps = new ReplyEvents(ctx.events, agent, turn.conversationId, turn.caller);
  steps.thinking();
  try {
    const reply = await answer(ctx, agent, conv, turn, steps, events, signal);
    steps.finished(reply.message.id);
    return reply;
  } catch (err) {
    steps.failed(err);
    throw err;
  } finally {
    steps.idle();
  }
}

async function answer(
  ctx: AgentsContext,
  agent: repo.AgentRow,
  conv: { participant: string; title: string },
  turn: Turn,
  steps: ReplyEvents,
  events: MessageEvents,
  signal: AbortSignal | undefined,
): Promise<Reply> {
  const { conversationId, content } = turn;
  const longTerm = agent.memory === 'long_term';
  const userVector = longTerm ? localEmbed(content, MEMORY_DIMS) : null;
  const history = (await repo.recentMessages(ctx.db, conversationId, 200)).reverse();
  let budget = agent.memory_tokens - approxTokens(content);
  const kept: ModelMessage[] = [];
  for (let i = history.length - 1; i >= 0 && budget > 0; i--) {
    const m = history[i]!;
    budget -= approxTokens(m.content);
    if (budget >= 0) kept.unshift({ role: m.role as 'user' | 'assistant', content: m.content });
  }
  const memories = userVector ? await recall(ctx, agent, conv.participant, conversationId, userVector) : [];
  await ctx.db
    .insertInto('agent_messages')
    .values({
      id: newId(),
      conversation_id: conversationId,
      agent_id: agent.id,
      org_id: agent.org_id,
      role: 'user',
      content,
      embedding: userVector && vectorLiteral(userVector, false),
    })
    .execute();
  const system = [
    agent.system,
    personalityText(agent.personality),
    memories.length ? `What you remember from earlier conversations with this user:\n- ${memories.join('\n- ')}` : '',
  ]
    .filter(Boolean)
    .join('\n\n');
  const toolCalls: Reply['toolCalls'] = [];
  const inputs = new Map<string, unknown>();
  const result = await chat(ctx.ai, agentActor(agent), {
    secretId: agent.secret_id,
    model: agent.model,
    system,
    messages: [...kept, { role: 'user', content }],
    ...(agent.temperature !== null ? { temperature: agent.temperature } : {}),
    tools: await buildTools(ctx, agent, toolRole(turn.caller)),
    maxSteps: agent.max_steps,
    signal,
    onDelta: (text) => {
      steps.delta(text);
      events.onDelta?.(text);
    },
    onToolCall: (c) => {
      inputs.set(c.id, c.input);
      steps.toolCall(c);
      events.onToolCall?.(c);
    },
    onToolResult: (r) => {
      toolCalls.push({ id: r.id, name: r.name, input: inputs.get(r.id) ?? null, output: r.output, ...(r.error ? { error: r.error } : {}) });
      steps.toolResult(r);
      events.onToolResult?.(r);
    },
    source: `agent ${agent.id}`,
  });
  const replyVector = longTerm && result.text ? localEmbed(result.text, MEMORY_DIMS) : null;
  let replyId = '';
  const at = await inTransaction(ctx.db, async ({ trx }) => {
    for (const t of toolCalls) {
      await trx
        .insertInto('agent_messages')
        .values({ id: newId(), conversation_id: conversationId, agent_id: agent.id, org_id: agent.org_id, role: 'tool', content: '', tool: JSON.stringify(t) })
        .execute();
    }
    // Ids are time-ordered (UUID v7): the reply's is made after its tool calls', so it lists after them.
    replyId = newId();
    const row = await trx
      .insertInto('agent_messages')
      .values({
        id: replyId,
        conversation_id: conversationId,
        agent_id: agent.id,
        org_id: agent.org_id,
        role: 'assistant',
        content: result.text,
        usage: JSON.stringify(result.usage),
        embedding: replyVector && vectorLiteral(replyVector, false),
      })
      .returning(['created_at'])
      .executeTakeFirstOrThrow();
    await trx
      .updateTable('conversations')
      .set({ updated_at: new Date(), ...(conv.title ? {} : { title: content.slice(0, 80) }) })
      .where('id', '=', conversationId)
      .execute();
    return row.created_at;
  });
  return { conversationId, message: { id: replyId, role: 'assistant', content: result.text, createdAt: at.toISOString() }, toolCalls, usage: result.usage };
}

export const participantOf = (actor: OrgActor) => actorRef(actor);
