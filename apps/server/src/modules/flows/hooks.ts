import { z } from 'zod';
import { type Actor, type FlowActor, assertCan, isOrgActor } from '../access/index.js';
import type { FlowNode } from '../engine/index.js';
import { flowErrors } from './flows.errors.js';
import * as repo from './flows.repo.js';
import { type Finished, type FlowsContext, runFlow, runForAnswer } from './flows.service.js';
import { DEFAULT_TOLERANCE_SEC, type SignatureStyle, verifySignature } from './webhook-auth.js';
import { rememberReplayKeys } from './webhook-replays.repo.js';

/**
 * Webhook triggers and published flows: how outside callers start executions.
 *
 * A flow's entry node defines its input, however the flow is reached: a webhook trigger emits
 * `{ method, path, headers, query, body }` (through its own URL and through the flow's published
 * endpoint alike), an input node (`core.input`) emits the body, checked against its JSON Schema
 * before anything runs.
 */

export interface InboundRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  query: Record<string, unknown>;
  body: unknown;
  rawBody: string;
  actor: Actor | null;
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export type RevealForFlow = (actor: FlowActor, secretId: string) => Promise<string>;

// Credentials and signatures never enter an execution record.
const DROP_HEADERS = new Set([
  'authorization',
  'cookie',
  'x-api-key',
  'x-signature',
  'x-hub-signature-256',
  'x-hub-signature',
  'stripe-signature',
  'proxy-authorization',
]);

const cleanPath = (p: string) => p.replace(/^\/+|\/+$/g, '');

interface WebhookParams {
  path: string;
  method: string;
  respond: 'immediately' | 'whenFinished';
  auth: 'none' | 'apiKey' | 'hmac';
  // NB: the stored params, as saved: defaults of the trigger's schema are not applied (toleranceSec may be absent).
  signature?: { style: SignatureStyle; secretId: string; header?: string; toleranceSec?: number };
}

/**
 * The HTTP answer of a finished execution: its respond node's status and headers, and its output.
 * A failure is told in full (the failing node and its error) only to a caller of the flow's own
 * organization (`insider`); anyone else gets a generic message and the execution id, which the
 * flow's owner can look up.
 */
function answerOf(f: Finished | undefined, insider: boolean): HttpAnswer {
  if (!f) throw flowErrors.EXECUTION_NOT_FOUND();
  if (f.status === 'succeeded')
    return { status: f.response?.status ?? 200, headers: { ...(f.response?.headers ?? {}), 'x-execution-id': f.id }, body: f.output };
  if (f.status === 'failed') {
    if (insider)
      throw flowErrors.EXECUTION_FAILED(`The flow failed: ${(f.error as { message?: string } | null)?.message ?? 'error'}`, {
        executionId: f.id,
        error: f.error,
      });
    throw flowErrors.EXECUTION_FAILED(`The flow could not complete this request. Its owner can look it up by execution id ${f.id}.`, { executionId: f.id });
  }
  // Still running at the deadline (or canceled): the caller can follow the execution.
  return { status: 202, headers: { 'x-execution-id': f.id }, body: { data: { executionId: f.id, status: f.status } } };
}

export async function receiveWebhook(ctx: FlowsContext, reveal: RevealForFlow, flowId: string, req: InboundRequest): Promise<HttpAnswer> {
  const flow = ctx.triggers?.activeFlow(flowId) ?? (await repo.findFlowById(ctx.db, flowId));
  const path = cleanPath(req.path);
  const node = flow?.active
    ? flow.nodes.find((n) => {
        if (n.type !== 'trigger.webhook' || n.disabled) return false;
        const p = n.params as Partial<WebhookParams>;
        const method = p.method ?? 'POST';
        return cleanPath(p.path ?? '') === path && (method === 'ANY' || method === req.method);
      })
    : undefined;
  if (!flow || !node) throw flowErrors.WEBHOOK_NOT_FOUND(`No active webhook ${req.method} /${path} on this flow.`);
  const p = { respond: 'immediately', auth: 'none', ...node.params } as WebhookParams;
  if (p.auth === 'apiKey' && !(req.actor && isOrgActor(req.actor) && req.actor.orgId === flow.org_id)) {
    throw flowErrors.WEBHOOK_UNAUTHORIZED('This webhook needs an API key of the flow’s organization (Authorization: Bearer … or X-API-Key).');
  }
  // Running a flow is an editor's right (SPEC §2): a viewer's key is known but may not run it (403).
  if (p.auth === 'apiKey' && req.actor && isOrgActor(req.actor)) assertCan(req.actor, 'flows:run');
  if (p.auth === 'hmac') {
    if (!p.signature) throw flowErrors.WEBHOOK_UNAUTHORIZED('The webhook has no signature secret configured.');
    const secret = await reveal({ kind: 'flow', flowId: flow.id, executionId: '', orgId: flow.org_id, role: 'editor' }, p.signature.secretId);
    const v = verifySignature({
      style: p.signature.style,
      secret,
      rawBody: req.rawBody,
      headers: req.headers,
      ...(p.signature.header ? { header: p.signature.header } : {}),
      toleranceSec: p.signature.toleranceSec ?? DEFAULT_TOLERANCE_SEC,
      nowSec: Math.floor(Date.now() / 1000),
    });
    if (!v.ok) throw flowErrors.WEBHOOK_UNAUTHORIZED(`Invalid webhook signature: ${v.reason}.`);
    // Checked last, so only a correctly signed request is remembered (junk cannot fill the table).
    if (!(await rememberReplayKeys(ctx.db, p.signature.secretId, v.replayKeys, new Date(v.rememberUntilSec * 1000)))) {
      throw flowErrors.WEBHOOK_REPLAYED('This signed request was accepted already; a replay starts nothing. Sign each delivery anew (a new timestamp).');
    }
  }
  const input = webhookInput(req, path, p.signature?.header);
  if (p.respond !== 'whenFinished') {
    const row = await runFlow(ctx, flow, { input, trigger: 'webhook', startNode: node.id, wait: false });
    return { status: 202, headers: {}, body: { data: { executionId: row?.id ?? null } } };
  }
  return answerOf(await runForAnswer(ctx, flow, { input, trigger: 'webhook', startNode: node.id }), insiderOf(req.actor, flow.org_id));
}

/** What a webhook trigger emits: the request, credentials and signatures left out. */
function webhookInput(req: Omit<InboundRequest, 'rawBody' | 'actor' | 'path'>, path: string, signatureHeader?: string) {
  const dropped = signatureHeader ? new Set([...DROP_HEADERS, signatureHeader.toLowerCase()]) : DROP_HEADERS;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (!dropped.has(k) && v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  return { method: req.method, path, headers, query: req.query, body: req.body };
}

const insiderOf = (actor: Actor | null, orgId: string) => !!actor && isOrgActor(actor) && actor.orgId === orgId;

/**
 * The node an outside call (published endpoint, sub-flow, agent tool) enters a flow at: its input
 * node, else its webhook trigger, else its manual trigger. Null: the flow starts at its roots.
 */
export function entryNodeOf(flow: Pick<repo.FlowRow, 'nodes'>): FlowNode | null {
  const live = flow.nodes.filter((n) => !n.disabled);
  return live.find((n) => n.type === 'core.input') ?? live.find((n) => n.type === 'trigger.webhook') ?? live.find((n) => n.type === 'trigger.manual') ?? null;
}

/**
 * Checks a published flow's input against its input node's JSON Schema, before anything runs.
 * Problems name fields of the input only (never a node); a schema this cannot read checks its
 * `required` list alone (what the node itself checks).
 */
export function inputProblems(schema: unknown, input: unknown): { field: string; code: string; message: string }[] {
  const s = (schema && typeof schema === 'object' ? schema : { type: 'object' }) as Record<string, unknown>;
  const problems: { field: string; code: string; message: string }[] = [];
  try {
    const r = z.fromJSONSchema(withoutPatterns(s) as Record<string, unknown>).safeParse(input);
    if (!r.success) for (const i of r.error.issues.slice(0, 50)) problems.push({ field: i.path.join('.') || '(input)', code: i.code, message: i.message });
  } catch {
    // A schema this cannot read: its `required` list alone is checked (what the node checks).
  }
  // `required` names without `properties` are not checked by the conversion: the node's own rule.
  const required = Array.isArray(s.required) ? s.required.filter((x): x is string => typeof x === 'string') : [];
  const obj = input && typeof input === 'object' ? (input as Record<string, unknown>) : {};
  for (const field of required)
    if ((obj[field] === undefined || obj[field] === null) && !problems.some((p) => p.field === field))
      problems.push({ field, code: 'required', message: 'required' });
  return problems;
}

/**
 * The schema without `pattern`/`patternProperties`: an anonymous caller's input must not meet a
 * regular expression whose run time it could blow up (the flow's own nodes may still check).
 */
function withoutPatterns(v: unknown, depth = 0): unknown {
  if (depth > 32 || !v || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => withoutPatterns(x, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (k !== 'pattern' && k !== 'patternProperties') out[k] = withoutPatterns(x, depth + 1);
  return out;
}

/**
 * `POST /api/v1/run/{slug}`: runs a published flow and answers with its output. Its entry node
 * gets what it would get from any caller: an input node the body (checked first: 422 with the
 * input's problems), a webhook trigger the request `{ method, path, headers, query, body }`.
 */
export async function runPublished(ctx: FlowsContext, slug: string, req: Omit<InboundRequest, 'rawBody' | 'path'>): Promise<HttpAnswer> {
  const flow = await repo.findFlowBySlug(ctx.db, slug);
  if (!flow?.publish) throw flowErrors.FLOW_NOT_PUBLISHED();
  const insider = insiderOf(req.actor, flow.org_id);
  if (flow.publish.access === 'apiKey' && !insider) throw flowErrors.WEBHOOK_UNAUTHORIZED('This flow is published for API keys of its organization only.');
  // Published for the organization's keys: the key needs the role that runs flows (editor). A
  // flow published with access "public" is the consumer path and needs no credential.
  if (flow.publish.access === 'apiKey' && req.actor && isOrgActor(req.actor)) assertCan(req.actor, 'flows:run');
  const entry = entryNodeOf(flow);
  const body = req.body ?? null;
  let input: unknown = body;
  if (entry?.type === 'core.input') {
    const problems = inputProblems((entry.params as { schema?: unknown }).schema, body);
    if (problems.length)
      throw flowErrors.FLOW_INPUT_INVALID(`The input has ${problems.length} problem(s). First: ${problems[0]!.field}: ${problems[0]!.message}.`, problems);
  } else if (entry?.type === 'trigger.webhook') input = webhookInput(req, cleanPath((entry.params as Partial<WebhookParams>).path ?? ''));
  const answer = answerOf(
    await runForAnswer(ctx, flow, { input, trigger: 'published', startNode: entry?.id ?? null, storeData: flow.publish.storeConsumerData }),
    insider,
  );
  return answer.status === 202 ? answer : { ...answer, body: { data: answer.body } };
}
