import type { Execution, Flow, NodeRun } from '@infinity/contracts';
import type { Kysely } from 'kysely';
import type { QuotaGate } from '../usage/index.js';
import { NodeError } from '@infinity/node-sdk';
import { z } from 'zod';
import { type Expected, isCurrent, preconditionFailed } from '../../platform/concurrency.js';
import { inTransaction, isUniqueViolation } from '../../platform/db/index.js';
import type { EventOf, EventSpine, SpineUnitOfWork } from '../../platform/events/index.js';
import { commonErrors } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import { type OrgActor, actorLabel, actorRef, assertCan } from '../access/index.js';
import { recordAudit } from '../audit/index.js';
import { type FlowGraph, compileGraph, descendants, flowEdgeSchema, flowNodeSchema, flowSettingsSchema, graphProblems } from '../engine/index.js';
import type { NodeRegistry } from '../nodes/index.js';
import * as exec from './executions.repo.js';
import { flowErrors } from './flows.errors.js';
import * as repo from './flows.repo.js';
import type { ExecutionRunner } from './runner.js';
import { TEMPLATES } from './templates.js';
import { resumeTokenValid } from './webhook-auth.js';

export interface FlowsContext {
  db: Kysely<repo.FlowTables>;
  registry: NodeRegistry;
  runner: ExecutionRunner;
  /** Whether this process may run executions inline (fast path); api-only processes queue and wait. */
  inline: boolean;
  /** flow.saved is emitted in each write's transaction (trigger tables of every process follow it). */
  events: EventSpine;
  /** The plan's flow limit. */
  quota: QuotaGate;
  /** Signs resume URLs of waiting executions. */
  resumeSecret: Uint8Array;
  /**
   * The active flows as the trigger hub last loaded them (webhooks skip a database read). A write
   * waits for `settled()` before answering, so a record written next fires the new trigger.
   * NB: this relies on the spine handing an event to this process's listeners at commit.
   */
  triggers?: ActiveFlows;
  /** Creates a model a template writes to when the organization lacks it (wired to the schema module). */
  ensureModel?: (actor: OrgActor, def: { name: string; label: string; description: string; fields: Record<string, unknown>[] }, ip: string) => Promise<void>;
}

/** What the flows service sees of the trigger hub: the active flows as last loaded. */
export interface ActiveFlows {
  /** An active flow by id, as last loaded; undefined: not active here (look it up). */
  activeFlow(id: string): repo.FlowRow | undefined;
  /** Resolves once the reloads this process has started (e.g. for its own flow.saved) are done. */
  settled(): Promise<void>;
}

/** What starting an execution needs (the trigger hub, sub-flows and agent tools have no more). */
export type FlowRunContext = Pick<FlowsContext, 'db' | 'runner' | 'inline'>;

/** flow.saved, delivered after the write commits (never after a rollback). */
function flowSaved(ctx: FlowsContext, uow: SpineUnitOfWork, actor: OrgActor, row: repo.FlowRow, change: FlowChange) {
  const who = actorLabel(actor);
  ctx.events.emit(uow, {
    type: 'flow.saved',
    orgId: actor.orgId,
    permission: 'flows:read',
    flowId: row.id,
    version: row.version,
    change,
    actor: { type: actor.kind, id: who.id },
  });
}
type FlowChange = EventOf<'flow.saved'>['change'];

export const flowWriteSchema = z.strictObject({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).default(''),
  nodes: z.array(flowNodeSchema).max(500).default([]),
  edges: z.array(flowEdgeSchema).max(2000).default([]),
  settings: flowSettingsSchema.default(flowSettingsSchema.parse({})),
});
export type FlowWrite = z.output<typeof flowWriteSchema>;
/**
 * POST /flows: a flow, or (with ?template=) changes to a template's flow, so every part is
 * optional there; `active: true` starts its triggers at once.
 */
export const flowCreateSchema = flowWriteSchema.extend({
  name: flowWriteSchema.shape.name.optional(),
  nodes: z.array(flowNodeSchema).max(500).optional(),
  edges: z.array(flowEdgeSchema).max(2000).optional(),
  settings: flowSettingsSchema.optional(),
  active: z.boolean().optional().describe('start the flow’s triggers at once (default false)'),
});
export type FlowCreate = z.output<typeof flowCreateSchema>;
export const flowPatchSchema = z.strictObject({
  name: flowWriteSchema.shape.name.optional(),
  description: z.string().max(2000).optional(),
  nodes: z.array(flowNodeSchema).max(500).optional(),
  edges: z.array(flowEdgeSchema).max(2000).optional(),
  settings: flowSettingsSchema.optional(),
  active: z.boolean().optional(),
});

export const toFlow = (r: repo.FlowRow): Flow => ({
  id: r.id,
  name: r.name,
  description: r.description,
  nodes: r.nodes,
  edges: r.edges,
  settings: r.settings,
  version: r.version,
  active: r.active,
  publish: r.publish,
  createdBy: r.created_by,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});
export type FlowDto = Flow;

function check(ctx: FlowsContext, g: FlowGraph) {
  const problems = graphProblems(g, ctx.registry.get);
  if (problems.length) throw flowErrors.FLOW_INVALID(`The flow has ${problems.length} problem(s). First: ${problems[0]!.message}.`, problems);
}

async function requireFlow(ctx: Pick<FlowsContext, 'db'>, actor: OrgActor, id: string) {
  const row = await repo.findFlow(ctx.db, actor.orgId, id);
  if (!row) throw flowErrors.FLOW_NOT_FOUND();
  return row;
}

export async function createFlow(ctx: FlowsContext, actor: OrgActor, input: FlowCreate | null, template: string | undefined, ip: string) {
  let write: FlowWrite;
  const t = template === undefined ? undefined : Object.hasOwn(TEMPLATES, template) ? TEMPLATES[template] : undefined;
  if (template !== undefined) {
    if (!t) throw flowErrors.FLOW_TEMPLATE_UNKNOWN(`No template "${template.slice(0, 50)}". Templates: ${Object.keys(TEMPLATES).join(', ')}.`);
    write = {
      name: input?.name ?? t.name,
      description: input?.description || t.description,
      nodes: t.nodes,
      edges: t.edges,
      settings: input?.settings ?? flowSettingsSchema.parse({}),
    };
  } else if (input?.name !== undefined) {
    write = {
      name: input.name,
      description: input.description,
      nodes: input.nodes ?? [],
      edges: input.edges ?? [],
      settings: input.settings ?? flowSettingsSchema.parse({}),
    };
  } else {
    throw commonErrors.VALIDATION_FAILED(
      'Send a flow with a name (and nodes, edges), or choose a template with ?template=' + Object.keys(TEMPLATES).join('|') + '.',
      [{ field: 'name', code: 'required', message: 'is required' }],
    );
  }
  check(ctx, write);
  await ctx.quota.check(actor.orgId, 'flows', 1);
  // A template's data nodes need their models: create the missing ones, so the flow runs as made.
  if (t?.models?.length) {
    assertCan(actor, 'models:write');
    for (const m of t.models) await ctx.ensureModel?.(actor, m, ip);
  }
  const active = input?.active === true;
  const flow = await inTransaction(ctx.db, async (uow) => {
    const { trx } = uow;
    let row = await repo.insertFlow(trx, actor.orgId, newId(), write, actorRef(actor));
    await recordAudit(trx, { orgId: actor.orgId, actor, action: 'FLOW_CREATE', target: { type: 'flow', id: row.id }, ip, details: { name: row.name } });
    flowSaved(ctx, uow, actor, row, 'created');
    if (active) {
      row = (await repo.setActive(trx, actor.orgId, row.id, true)) ?? row;
      await recordAudit(trx, { orgId: actor.orgId, actor, action: 'FLOW_ACTIVATE', target: { type: 'flow', id: row.id }, ip });
      flowSaved(ctx, uow, actor, row, 'activated');
    }
    return toFlow(row);
  });
  ctx.quota.grew(actor.orgId, 'flows', 1);
  if (active) await ctx.triggers?.settled();
  return flow;
}

/**
 * A page of flows, newest first. `next` holds the sort values after the page's last row when
 * more follow (the route turns it into meta.nextCursor).
 */
export async function listFlows(ctx: FlowsContext, actor: OrgActor, w: repo.PageWindow) {
  const [rows, total] = await Promise.all([repo.listFlows(ctx.db, actor.orgId, { ...w, limit: w.limit + 1 }), repo.countFlows(ctx.db, actor.orgId)]);
  const last = rows.length > w.limit ? rows[w.limit - 1] : undefined;
  return { items: rows.slice(0, w.limit).map(({ cursor_at: _c, ...r }) => toFlow(r)), total, next: last ? [last.cursor_at!, last.id] : null };
}

export async function getFlow(ctx: FlowsContext, actor: OrgActor, id: string) {
  return toFlow(await requireFlow(ctx, actor, id));
}

/**
 * PUT replaces the graph, PATCH changes parts of it; both validate and create a version. The row
 * is read locked, in the write's transaction: a PATCH merges into what is current, and `expected`
 * (If-Match) is checked against the version that is really there when the write happens.
 */
export async function saveFlow(ctx: FlowsContext, actor: OrgActor, id: string, change: z.output<typeof flowPatchSchema>, ip: string, expected?: Expected) {
  const graphChanged =
    change.name !== undefined || change.description !== undefined || change.nodes !== undefined || change.edges !== undefined || change.settings !== undefined;
  const { row, wasActive } = await inTransaction(ctx.db, async (uow) => {
    const { trx } = uow;
    const cur = await repo.lockFlow(trx, actor.orgId, id);
    if (!cur) throw flowErrors.FLOW_NOT_FOUND();
    if (!isCurrent(expected, cur.version)) throw preconditionFailed('flow', cur.version);
    let r: repo.FlowRow | undefined = cur;
    if (graphChanged) {
      const next: FlowWrite = {
        name: change.name ?? cur.name,
        description: change.description ?? cur.description,
        nodes: change.nodes ?? cur.nodes,
        edges: change.edges ?? cur.edges,
        settings: change.settings ?? cur.settings,
      };
      check(ctx, next);
      r = await repo.updateFlow(trx, actor.orgId, id, next, actorRef(actor));
    }
    if (change.active !== undefined && change.active !== cur.active) {
      r = await repo.setActive(trx, actor.orgId, id, change.active);
      await recordAudit(trx, { orgId: actor.orgId, actor, action: change.active ? 'FLOW_ACTIVATE' : 'FLOW_DEACTIVATE', target: { type: 'flow', id }, ip });
    }
    if (!r) throw flowErrors.FLOW_NOT_FOUND();
    if (graphChanged) {
      await recordAudit(trx, { orgId: actor.orgId, actor, action: 'FLOW_UPDATE', target: { type: 'flow', id }, ip, details: { version: r.version } });
      flowSaved(ctx, uow, actor, r, 'updated');
    }
    if (change.active !== undefined && change.active !== cur.active) flowSaved(ctx, uow, actor, r, change.active ? 'activated' : 'deactivated');
    return { row: r, wasActive: cur.active };
  });
  // Only active flows have triggers: editing an inactive one changes nothing to reload.
  if (wasActive || row.active) await ctx.triggers?.settled();
  return toFlow(row);
}

export async function deleteFlow(ctx: FlowsContext, actor: OrgActor, id: string, ip: string, expected?: Expected) {
  const wasActive = await inTransaction(ctx.db, async (uow) => {
    const { trx } = uow;
    const cur = await repo.lockFlow(trx, actor.orgId, id);
    if (!cur) throw flowErrors.FLOW_NOT_FOUND();
    if (!isCurrent(expected, cur.version)) throw preconditionFailed('flow', cur.version);
    const r = await repo.deleteFlow(trx, actor.orgId, id);
    if (!r) throw flowErrors.FLOW_NOT_FOUND();
    await recordAudit(trx, { orgId: actor.orgId, actor, action: 'DELETE_WORKFLOW', target: { type: 'flow', id }, ip });
    flowSaved(ctx, uow, actor, cur, 'deleted');
    return r.active;
  });
  if (wasActive) await ctx.triggers?.settled();
}

export async function listVersions(ctx: FlowsContext, actor: OrgActor, id: string, w: repo.PageWindow) {
  const flow = await requireFlow(ctx, actor, id);
  const rows = await repo.listVersions(ctx.db, id, { ...w, limit: w.limit + 1 });
  const last = rows.length > w.limit ? rows[w.limit - 1] : undefined;
  return {
    items: rows.slice(0, w.limit).map((v) => ({ version: v.version, name: v.name, createdBy: v.created_by, createdAt: v.created_at.toISOString() })),
    total: flow.version,
    next: last ? [String(last.version)] : null,
  };
}

export async function getVersion(ctx: FlowsContext, actor: OrgActor, id: string, version: number) {
  await requireFlow(ctx, actor, id);
  const v = await repo.findVersion(ctx.db, id, version);
  if (!v) throw flowErrors.FLOW_VERSION_NOT_FOUND();
  // Diff-friendly: nodes and edges in a stable order.
  const byId = <T extends { id: string }>(xs: T[]) => [...xs].sort((a, b) => a.id.localeCompare(b.id));
  return {
    version: v.version,
    name: v.name,
    description: v.description,
    nodes: byId(v.nodes),
    edges: byId(v.edges),
    settings: v.settings,
    createdBy: v.created_by,
    createdAt: v.created_at.toISOString(),
  };
}

export async function restoreVersion(ctx: FlowsContext, actor: OrgActor, id: string, version: number, ip: string) {
  const v = await getVersion(ctx, actor, id, version);
  return saveFlow(ctx, actor, id, { name: v.name, description: v.description, nodes: v.nodes, edges: v.edges, settings: v.settings }, ip);
}

export interface RunRequest {
  input: unknown;
  trigger: string;
  startNode: string | null;
  wait: boolean;
  waitMs?: number;
  storeData?: boolean;
  usePins?: boolean;
}

/** Starts an execution of the flow's current version; with `wait`, resolves once it has finished. */
/** The execution a run request starts (not yet written). */
function newExecution(flow: Pick<repo.FlowRow, 'id' | 'org_id' | 'version'>, req: Omit<RunRequest, 'wait'> & { id?: string; parentId?: string }) {
  return {
    id: req.id ?? newId(),
    orgId: flow.org_id,
    flowId: flow.id,
    flowVersion: flow.version,
    trigger: req.trigger,
    startNode: req.startNode,
    input: req.input ?? null,
    storeData: req.storeData ?? true,
    usePins: req.usePins ?? false,
    parentId: req.parentId ?? null,
  };
}

/** Where a flow called with an input starts: its input node, else its manual trigger. */
export function inputNodeOf(flow: Pick<repo.FlowRow, 'nodes'>): string | null {
  return (flow.nodes.find((n) => n.type === 'core.input') ?? flow.nodes.find((n) => n.type === 'trigger.manual'))?.id ?? null;
}

export async function runFlow(ctx: FlowRunContext, flow: Pick<repo.FlowRow, 'id' | 'org_id' | 'version'>, req: RunRequest & { id?: string }) {
  const e = newExecution(flow, req);
  const id = e.id;
  if (req.wait && ctx.inline) {
    const result = await ctx.runner.start(e, true);
    const row = await exec.findExecution(ctx.db, id);
    // Not stored (no consumer data): the caller still gets the output, from memory.
    if (row && result && !row.store_data) row.output = result.output;
    return row;
  }
  await ctx.runner.start(e, false);
  return req.wait ? ctx.runner.wait(id, req.waitMs ?? 30_000) : exec.findExecution(ctx.db, id);
}

/** What an inbound caller (webhook, published flow) is answered from. */
export interface Finished {
  id: string;
  status: exec.ExecutionStatus;
  output: unknown;
  error: unknown;
  response: { status: number; headers: Record<string, string> } | null;
}

/**
 * Runs and waits for the answer. On the fast path the result comes straight from memory (no read
 * back); a queued run is waited for and read from the database.
 */
export async function runForAnswer(
  ctx: FlowRunContext,
  flow: Pick<repo.FlowRow, 'id' | 'org_id' | 'version'>,
  req: Omit<RunRequest, 'wait'> & { id?: string; parentId?: string },
): Promise<Finished | undefined> {
  const e = newExecution(flow, req);
  const id = e.id;
  if (ctx.inline) {
    const result = await ctx.runner.start(e, true);
    if (result && (result.status === 'succeeded' || result.status === 'failed' || result.status === 'waiting'))
      return { id, status: result.status, output: result.output, error: result.error, response: result.response ?? null };
  } else await ctx.runner.start(e, false);
  const row = await ctx.runner.wait(id, req.waitMs ?? 30_000);
  if (!row) return undefined;
  let response: Finished['response'] = null;
  if (row.status === 'succeeded') {
    const respond = (await exec.nodeRuns(ctx.db, id)).filter((r) => r.node_type === 'core.respond' && r.status === 'succeeded').pop();
    const meta = respond?.ports?.main as { status?: number; headers?: Record<string, string> } | undefined;
    if (respond) response = { status: meta?.status ?? 200, headers: meta?.headers ?? {} };
    if (!row.store_data) await exec.forgetOutput(ctx.db, id);
  }
  return { id, status: row.status, output: row.output, error: row.error, response };
}

export async function runFlowAsActor(ctx: FlowsContext, actor: OrgActor, id: string, input: unknown, wait: boolean) {
  const flow = await requireFlow(ctx, actor, id);
  return runFlow(ctx, flow, { input, trigger: 'manual', startNode: null, wait, usePins: true });
}

export const publishSchema = z.strictObject({
  slug: z
    .string()
    .min(3)
    .max(80)
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes'),
  access: z.enum(['public', 'apiKey']).default('apiKey'),
  storeConsumerData: z.boolean().default(true),
});

export async function publishFlow(ctx: FlowsContext, actor: OrgActor, id: string, p: z.output<typeof publishSchema>, ip: string) {
  if (p.access === 'public' && actor.role !== 'owner') throw flowErrors.FLOW_PUBLIC_OWNER_ONLY();
  const row = await inTransaction(ctx.db, async (uow) => {
    const { trx } = uow;
    const r = await repo.setPublish(trx, actor.orgId, id, p).catch((err: unknown) => {
      if (isUniqueViolation(err)) throw flowErrors.FLOW_SLUG_TAKEN(`The slug "${p.slug}" is taken.`);
      throw err;
    });
    if (!r) throw flowErrors.FLOW_NOT_FOUND();
    await recordAudit(trx, { orgId: actor.orgId, actor, action: 'FLOW_PUBLISH', target: { type: 'flow', id }, ip, details: { ...p } });
    flowSaved(ctx, uow, actor, r, 'published');
    return r;
  });
  return toFlow(row);
}

export async function unpublishFlow(ctx: FlowsContext, actor: OrgActor, id: string, ip: string) {
  const row = await inTransaction(ctx.db, async (uow) => {
    const { trx } = uow;
    const r = await repo.setPublish(trx, actor.orgId, id, null);
    if (!r) throw flowErrors.FLOW_NOT_FOUND();
    await recordAudit(trx, { orgId: actor.orgId, actor, action: 'FLOW_UNPUBLISH', target: { type: 'flow', id }, ip });
    flowSaved(ctx, uow, actor, r, 'unpublished');
    return r;
  });
  return toFlow(row);
}

// ── executions ────────────────────────────────────────────────────────────────────────────────

export const toExecution = (r: exec.ExecutionRow): Execution => ({
  id: r.id,
  flowId: r.flow_id,
  flowVersion: r.flow_version,
  status: r.status,
  trigger: r.trigger,
  input: r.input,
  output: r.output,
  error: r.error,
  parentId: r.parent_id,
  steps: r.steps,
  claims: r.claims,
  startedAt: r.started_at?.toISOString() ?? null,
  finishedAt: r.finished_at?.toISOString() ?? null,
  durationMs: r.duration_ms,
  createdAt: r.created_at.toISOString(),
});

const toNodeRun = (r: exec.NodeRunRow): NodeRun => {
  // Emitted ports and their data; null when the node emitted nothing or data was not stored.
  const ports = r.ports;
  return {
    nodeId: r.node_id,
    nodeName: r.node_name,
    nodeType: r.node_type,
    status: r.status,
    input: r.input,
    output: ports,
    error: r.error,
    logs: r.logs,
    attempts: r.attempts,
    startedAt: r.started_at.toISOString(),
    finishedAt: r.finished_at.toISOString(),
    durationMs: r.duration_ms,
  };
};

/** A page of executions, newest first; `next` as in listFlows. */
export async function listExecutions(ctx: FlowsContext, actor: OrgActor, f: Omit<exec.ExecutionFilter, 'orgId'>) {
  const [rows, total] = await Promise.all([
    exec.listExecutions(ctx.db, { ...f, limit: f.limit + 1, orgId: actor.orgId }),
    exec.countExecutions(ctx.db, { ...f, orgId: actor.orgId }),
  ]);
  const last = rows.length > f.limit ? rows[f.limit - 1] : undefined;
  return { items: rows.slice(0, f.limit).map(({ cursor_at: _c, ...r }) => toExecution(r)), total, next: last ? [last.cursor_at, last.id] : null };
}

export async function getExecution(ctx: FlowsContext, actor: OrgActor, id: string) {
  const row = await exec.findExecution(ctx.db, id, actor.orgId);
  if (!row) throw flowErrors.EXECUTION_NOT_FOUND();
  const nodes = await exec.nodeRuns(ctx.db, id);
  return { ...toExecution(row), nodes: nodes.map(toNodeRun) };
}

export async function cancelExecution(ctx: FlowsContext, actor: OrgActor, id: string) {
  const row = await exec.findExecution(ctx.db, id, actor.orgId);
  if (!row) throw flowErrors.EXECUTION_NOT_FOUND();
  if (!(await ctx.runner.cancel(actor.orgId, id))) throw flowErrors.EXECUTION_NOT_CANCELABLE(`The execution has ${row.status} already.`);
  return toExecution((await exec.findExecution(ctx.db, id, actor.orgId))!);
}

/**
 * Re-runs an execution, from the start or from a node: the new execution gets the stored runs of
 * every node that is not downstream of that node, and the engine continues from there.
 */
export async function rerunExecution(ctx: FlowsContext, actor: OrgActor, id: string, fromNodeId: string | undefined, wait: boolean) {
  assertCan(actor, 'flows:run');
  const old = await exec.findExecution(ctx.db, id, actor.orgId);
  if (!old) throw flowErrors.EXECUTION_NOT_FOUND();
  await requireFlow(ctx, actor, old.flow_id);
  const newExecId = newId();
  let keep: string[] = [];
  if (fromNodeId) {
    const v = await repo.findVersion(ctx.db, old.flow_id, old.flow_version);
    if (!v || !v.nodes.some((n) => n.id === fromNodeId))
      throw flowErrors.EXECUTION_NOT_RERUNNABLE(`Node "${fromNodeId.slice(0, 64)}" is not part of the flow version this execution ran.`);
    if (!old.store_data) throw flowErrors.EXECUTION_NOT_RERUNNABLE('This execution did not store node data; re-run it from the start.');
    const g = compileGraph(v, ctx.registry.get);
    const again = descendants(g, fromNodeId);
    keep = (await exec.nodeRuns(ctx.db, id)).map((r) => r.node_id).filter((n) => !again.has(n));
  }
  const e = newExecution(
    { id: old.flow_id, org_id: actor.orgId, version: old.flow_version },
    { id: newExecId, trigger: 'rerun', startNode: old.start_node, input: old.input, usePins: true, parentId: old.id },
  );
  // Queued in the same transaction as the copied runs, so the runner resumes after them.
  await inTransaction(ctx.db, async (uow) => {
    await ctx.runner.enqueueIn(uow, e);
    await exec.copyNodeRuns(uow.trx, id, newExecId, keep);
  });
  await ctx.runner.kick();
  const row = wait ? await ctx.runner.wait(newExecId, 30_000) : await exec.findExecution(ctx.db, newExecId);
  return toExecution(row!);
}

/** `POST /executions/{id}/resume?token=…`: continues an execution parked at a webhook wait. */
export async function resumeExecution(ctx: FlowsContext, id: string, token: string, body: unknown) {
  if (!resumeTokenValid(ctx.resumeSecret, id, token)) throw flowErrors.EXECUTION_NOT_FOUND('No waiting execution for this resume URL.');
  const r = await exec.resumeWaiting(ctx.db, id, body);
  if (!r) throw flowErrors.EXECUTION_NOT_WAITING();
  await ctx.runner.kick();
  return { executionId: id };
}

/**
 * A sub-flow call from a running execution: another flow of the same organization, run in place
 * (its parent recorded), its output returned. Nesting is limited, so a flow calling itself stops.
 */
export function subflowRunner(maxDepth = 10) {
  const depth = new Map<string, number>();
  return async (ctx: FlowRunContext, parent: { executionId: string; orgId: string }, flowId: string, input: unknown) => {
    const level = (depth.get(parent.executionId) ?? 0) + 1;
    if (level > maxDepth)
      throw new NodeError(`Sub-flows nest more than ${maxDepth} deep (a flow calling itself?).`, { code: 'SUBFLOW_TOO_DEEP', retryable: false });
    const flow = await repo.findFlowById(ctx.db, flowId);
    if (!flow || flow.org_id !== parent.orgId)
      throw new NodeError('No flow with this id in this organization.', { code: 'SUBFLOW_NOT_FOUND', retryable: false });
    const childId = newId();
    depth.set(childId, level);
    try {
      const f = await runForAnswer(ctx, flow, { input, trigger: 'subflow', startNode: inputNodeOf(flow), id: childId, parentId: parent.executionId });
      if (!f || f.status !== 'succeeded')
        throw new NodeError(`The sub-flow ${f?.status ?? 'did not finish'}: ${(f?.error as { message?: string } | null)?.message ?? ''}`.trim(), {
          code: 'SUBFLOW_FAILED',
          details: { executionId: f?.id ?? childId, error: f?.error ?? null },
          retryable: false,
        });
      return { executionId: f.id, output: f.output };
    } finally {
      depth.delete(childId);
    }
  };
}

/** A flow as an agent tool: its name, description and the JSON Schema of its input node. */
export async function flowToolSpec(ctx: Pick<FlowsContext, 'db'>, actor: OrgActor, id: string) {
  const flow = await repo.findFlow(ctx.db, actor.orgId, id);
  if (!flow) return null;
  const input = flow.nodes.find((n) => n.type === 'core.input');
  const schema = (input?.params as { schema?: Record<string, unknown> } | undefined)?.schema;
  return {
    name: flow.name,
    description: flow.description,
    inputSchema: schema && schema.type === 'object' ? schema : { type: 'object', properties: {}, additionalProperties: true },
  };
}

/** Runs a flow for an agent's tool call and answers with its output (a failure is the tool's error). */
export async function runFlowForTool(ctx: FlowRunContext, actor: OrgActor, id: string, input: unknown): Promise<unknown> {
  assertCan(actor, 'flows:run');
  const flow = await requireFlow(ctx, actor, id);
  const f = await runForAnswer(ctx, flow, { input, trigger: 'agent', startNode: inputNodeOf(flow) });
  if (!f || f.status !== 'succeeded')
    throw new NodeError(`The flow ${f?.status ?? 'did not finish'}: ${(f?.error as { message?: string } | null)?.message ?? ''}`.trim(), {
      code: 'FLOW_TOOL_FAILED',
      details: { executionId: f?.id ?? null },
      retryable: false,
    });
  return f.output;
}
