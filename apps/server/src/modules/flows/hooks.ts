import { type Actor, type FlowActor, isOrgActor } from '../access/index.js';
import { flowErrors } from './flows.errors.js';
import * as repo from './flows.repo.js';
import { type Finished, type FlowsContext, inputNodeOf, runFlow, runForAnswer } from './flows.service.js';
import { DEFAULT_TOLERANCE_SEC, type SignatureStyle, verifySignature } from './webhook-auth.js';
import { rememberReplayKeys } from './webhook-replays.repo.js';

/** Webhook triggers and published flows: how outside callers start executions. */

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
const DROP_HEADERS = new Set(['authorization', 'cookie', 'x-api-key', 'x-signature', 'x-hub-signature-256', 'x-hub-signature', 'stripe-signature', 'proxy-authorization']);

const cleanPath = (p: string) => p.replace(/^\/+|\/+$/g, '');

interface WebhookParams {
  path: string;
  method: string;
  respond: 'immediately' | 'whenFinished';
  auth: 'none' | 'apiKey' | 'hmac';
  // NB: the stored params, as saved: defaults of the trigger's schema are not applied (toleranceSec may be absent).
  signature?: { style: SignatureStyle; secretId: string; header?: string; toleranceSec?: number };
}

/** The HTTP answer of a finished execution: its respond node's status and headers, and its output. */
function answerOf(f: Finished | undefined): HttpAnswer {
  if (!f) throw flowErrors.EXECUTION_NOT_FOUND();
  if (f.status === 'succeeded') return { status: f.response?.status ?? 200, headers: { ...(f.response?.headers ?? {}), 'x-execution-id': f.id }, body: f.output };
  if (f.status === 'failed') throw flowErrors.EXECUTION_FAILED(`The flow failed: ${(f.error as { message?: string } | null)?.message ?? 'error'}`, { executionId: f.id, error: f.error });
  // Still running at the deadline (or canceled): the caller can follow the execution.
  return { status: 202, headers: { 'x-execution-id': f.id }, body: { data: { executionId: f.id, status: f.status } } };
}

export async function receiveWebhook(ctx: FlowsContext, reveal: RevealForFlow, flowId: string, req: InboundRequest): Promise<HttpAnswer> {
  const flow = ctx.activeFlow?.(flowId) ?? (await repo.findFlowById(ctx.db, flowId));
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
  if (p.auth === 'hmac') {
    if (!p.signature) throw flowErrors.WEBHOOK_UNAUTHORIZED('The webhook has no signature secret configured.');
    const secret = await reveal({ kind: 'flow', flowId: flow.id, executionId: '', orgId: flow.org_id, role: 'editor' }, p.signature.secretId);
    const v = verifySignature({ style: p.signature.style, secret, rawBody: req.rawBody, headers: req.headers, ...(p.signature.header ? { header: p.signature.header } : {}), toleranceSec: p.signature.toleranceSec ?? DEFAULT_TOLERANCE_SEC, nowSec: Math.floor(Date.now() / 1000) });
    if (!v.ok) throw flowErrors.WEBHOOK_UNAUTHORIZED(`Invalid webhook signature: ${v.reason}.`);
    // Checked last, so only a correctly signed request is remembered (junk cannot fill the table).
    if (!(await rememberReplayKeys(ctx.db, p.signature.secretId, v.replayKeys, new Date(v.rememberUntilSec * 1000)))) {
      throw flowErrors.WEBHOOK_REPLAYED('This signed request was accepted already; a replay starts nothing. Sign each delivery anew (a new timestamp).');
    }
  }
  const dropped = p.signature?.header ? new Set([...DROP_HEADERS, p.signature.header.toLowerCase()]) : DROP_HEADERS;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (!dropped.has(k) && v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  const input = { method: req.method, path, headers, query: req.query, body: req.body };
  if (p.respond !== 'whenFinished') {
    const row = await runFlow(ctx, flow, { input, trigger: 'webhook', startNode: node.id, wait: false });
    return { status: 202, headers: {}, body: { data: { executionId: row?.id ?? null } } };
  }
  return answerOf(await runForAnswer(ctx, flow, { input, trigger: 'webhook', startNode: node.id }));
}

/** `POST /api/v1/run/{slug}`: runs a published flow with the body as input and answers with its output. */
export async function runPublished(ctx: FlowsContext, slug: string, body: unknown, actor: Actor | null): Promise<HttpAnswer> {
  const flow = await repo.findFlowBySlug(ctx.db, slug);
  if (!flow?.publish) throw flowErrors.FLOW_NOT_PUBLISHED();
  if (flow.publish.access === 'apiKey' && !(actor && isOrgActor(actor) && actor.orgId === flow.org_id)) {
    throw flowErrors.WEBHOOK_UNAUTHORIZED('This flow is published for API keys of its organization only.');
  }
  const answer = answerOf(await runForAnswer(ctx, flow, { input: body ?? null, trigger: 'published', startNode: inputNodeOf(flow), storeData: flow.publish.storeConsumerData }));
  return answer.status === 202 ? answer : { ...answer, body: { data: answer.body } };
}
