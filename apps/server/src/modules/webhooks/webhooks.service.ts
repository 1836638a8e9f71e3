import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { inTransaction } from '../../platform/db/index.js';
import { AppError } from '../../platform/errors.js';
import type { EventSpine, SpineUnitOfWork } from '../../platform/events/index.js';
import { newId } from '../../platform/ids.js';
import { OutboundRefused, type OutboundHttp } from '../../platform/net/outbound-http.js';
import { type OrgActor, eventActor } from '../access/index.js';
import { recordAudit } from '../audit/index.js';
import { type RecordsContext, parseFilter, requireModel, whereFor } from '../records/index.js';
import { type VaultContext, openForOrg, sealForOrg } from '../vault/index.js';
import { webhookErrors } from './webhooks.errors.js';
import * as repo from './webhooks.repo.js';
import type { WebhookSender } from './webhooks.sender.js';
import { type SubscriptionIndex, WEBHOOK_EVENT_NAMES, isRecordEvent } from './webhooks.subscriptions.js';
import type { WebhookTables } from './webhooks.tables.js';

/** What the webhooks use cases need; built once by the module. */
export interface WebhooksContext {
  db: Kysely<WebhookTables>;
  vault: VaultContext;
  records: RecordsContext;
  outbound: Pick<OutboundHttp, 'checkTarget' | 'request'>;
  events: EventSpine;
  index: SubscriptionIndex;
  sender: WebhookSender;
}

export interface WebhookInput {
  url: string;
  events: string[];
  model?: string | null | undefined;
  filter?: Record<string, unknown> | null | undefined;
  description?: string | null | undefined;
  enabled?: boolean | undefined;
}

export function toWebhook(r: repo.WebhookRow) {
  return {
    id: r.id,
    url: r.url,
    events: r.events,
    model: r.model,
    filter: r.filter,
    description: r.description,
    enabled: r.enabled,
    disabledReason: r.disabled_reason,
    createdBy: r.creator_kind === 'apiKey' ? { type: 'apiKey' as const, id: r.creator_key_id } : { type: 'user' as const, id: r.creator_user_id },
    lastSuccessAt: r.last_success_at?.toISOString() ?? null,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}
export type WebhookDto = ReturnType<typeof toWebhook>;

/** `whsec_` + base64 of 32 random bytes: the Standard Webhooks secret format. */
const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;
export const secretPurpose = (id: string) => `webhook:${id}`;

/** Whose authority the subscription acts with: the member, or the API key (service or personal) that set it up. */
function grantorOf(actor: OrgActor) {
  if (actor.kind === 'user') return { creator_kind: 'user' as const, creator_user_id: actor.userId, creator_key_id: null };
  if (actor.kind === 'apiKey') return { creator_kind: 'apiKey' as const, creator_user_id: actor.userId, creator_key_id: actor.apiKeyId };
  throw webhookErrors.WEBHOOK_TARGET_REFUSED('Only members and API keys create webhook subscriptions.');
}

async function checkTarget(ctx: WebhooksContext, url: string): Promise<void> {
  try {
    await ctx.outbound.checkTarget(url);
  } catch (err) {
    if (err instanceof OutboundRefused) throw webhookErrors.WEBHOOK_TARGET_REFUSED(err.message, { field: 'url', reason: err.reason });
    throw err;
  }
}

/** Events known, model where (and only where) record events need it, filter valid for that model. */
async function validate(ctx: WebhooksContext, actor: OrgActor, w: { events: string[]; model: string | null; filter: Record<string, unknown> | null }) {
  const unknown = w.events.filter((e) => !(WEBHOOK_EVENT_NAMES as string[]).includes(e));
  if (unknown.length || w.events.length === 0)
    throw webhookErrors.WEBHOOK_EVENT_UNKNOWN(
      `${unknown.length ? `Unknown event${unknown.length > 1 ? 's' : ''}: ${unknown.map((e) => e.slice(0, 60)).join(', ')}. ` : 'Name at least one event. '}Accepted: ${WEBHOOK_EVENT_NAMES.join(', ')}.`,
      { field: 'events', accepted: WEBHOOK_EVENT_NAMES },
    );
  const records = w.events.filter(isRecordEvent);
  if (records.length && !w.model) throw webhookErrors.WEBHOOK_MODEL_INVALID(`model is required with ${records.join(', ')}.`, { field: 'model' });
  if (w.model && records.length !== w.events.length)
    throw webhookErrors.WEBHOOK_MODEL_INVALID('model is allowed only when every event is a record event (record.created, record.updated, record.deleted).', {
      field: 'model',
    });
  if (w.filter && !w.model)
    throw webhookErrors.WEBHOOK_FILTER_INVALID('filter needs a model (it is evaluated on the records of record events).', { field: 'filter' });
  if (!w.model) return;
  let found: Awaited<ReturnType<typeof requireModel>>;
  try {
    found = await requireModel(ctx.records, actor, w.model);
  } catch (err) {
    if (err instanceof AppError && err.status === 404)
      throw webhookErrors.WEBHOOK_MODEL_INVALID(`No model named "${w.model.slice(0, 63)}" in this organization.`, { field: 'model' });
    throw err;
  }
  if (!w.filter) return;
  try {
    // The same parser and compiler the list API and the delivery-time check use.
    whereFor(found.model, found.models, { filter: parseFilter(w.filter), q: undefined });
  } catch (err) {
    if (err instanceof AppError && err.status === 400) throw webhookErrors.WEBHOOK_FILTER_INVALID(err.message, { field: 'filter' });
    throw err;
  }
}

function emitChanged(
  ctx: WebhooksContext,
  uow: SpineUnitOfWork,
  actor: OrgActor | null,
  row: { id: string; org_id: string },
  change: 'created' | 'updated' | 'deleted' | 'disabled',
) {
  ctx.events.emit(uow, {
    type: 'webhook.changed',
    orgId: row.org_id,
    permission: 'webhooks:manage',
    actor: actor ? eventActor(actor) : { type: 'system', id: null },
    webhookId: row.id,
    change,
  });
}

export async function createWebhook(ctx: WebhooksContext, actor: OrgActor, input: WebhookInput, ip: string): Promise<WebhookDto & { secret: string }> {
  const w = { events: [...new Set(input.events)], model: input.model ?? null, filter: input.filter ?? null };
  await validate(ctx, actor, w);
  await checkTarget(ctx, input.url);
  const id = newId();
  const secret = newSecret();
  const sealed = await sealForOrg(ctx.vault, actor.orgId, secretPurpose(id), secret);
  const row = await inTransaction(ctx.db, async (uow) => {
    const r = await repo.insertWebhook(uow.trx, {
      id,
      org_id: actor.orgId,
      url: input.url,
      events: w.events,
      model: w.model,
      filter: w.filter ? JSON.stringify(w.filter) : null,
      description: input.description ?? null,
      enabled: input.enabled ?? true,
      secret_ciphertext: sealed.ciphertext,
      secret_key_version: sealed.keyVersion,
      ...grantorOf(actor),
    });
    await recordAudit(uow.trx, {
      orgId: actor.orgId,
      actor,
      action: 'WEBHOOK_CREATE',
      target: { type: 'webhook', id },
      ip,
      details: { events: w.events, model: w.model },
    });
    emitChanged(ctx, uow, actor, r, 'created');
    // This process's index follows at once: a write right after this answer is already covered.
    uow.afterCommit(() => ctx.index.apply({ row: r }));
    return r;
  });
  return { ...toWebhook(row), secret };
}

export async function listWebhooks(ctx: WebhooksContext, actor: OrgActor, limit: number, offset: number) {
  const [rows, total] = await Promise.all([repo.listWebhooks(ctx.db, actor.orgId, limit, offset), repo.countWebhooks(ctx.db, actor.orgId)]);
  return { data: rows.map(toWebhook), total };
}

async function mustFind(ctx: WebhooksContext, actor: OrgActor, id: string): Promise<repo.WebhookRow> {
  const row = await repo.findWebhook(ctx.db, actor.orgId, id);
  if (!row) throw webhookErrors.WEBHOOK_SUBSCRIPTION_NOT_FOUND();
  return row;
}

export async function getWebhook(ctx: WebhooksContext, actor: OrgActor, id: string): Promise<WebhookDto> {
  return toWebhook(await mustFind(ctx, actor, id));
}

export async function updateWebhook(ctx: WebhooksContext, actor: OrgActor, id: string, patch: Partial<WebhookInput>, ip: string): Promise<WebhookDto> {
  const current = await mustFind(ctx, actor, id);
  const events = patch.events ? [...new Set(patch.events)] : current.events;
  const model = patch.model !== undefined ? patch.model : current.model;
  const filter = patch.filter !== undefined ? patch.filter : current.filter;
  await validate(ctx, actor, { events, model, filter });
  if (patch.url !== undefined) await checkTarget(ctx, patch.url);
  const reenable = patch.enabled === true && !current.enabled;
  const row = await inTransaction(ctx.db, async (uow) => {
    const r = await repo.updateWebhook(uow.trx, actor.orgId, id, {
      ...(patch.url !== undefined ? { url: patch.url } : {}),
      ...(patch.events !== undefined ? { events } : {}),
      ...(patch.model !== undefined ? { model } : {}),
      ...(patch.filter !== undefined ? { filter: filter ? JSON.stringify(filter) : null } : {}),
      ...(patch.description !== undefined ? { description: patch.description } : {}),
      ...(patch.enabled !== undefined ? { enabled: patch.enabled, disabled_reason: patch.enabled ? null : 'disabled by an admin' } : {}),
      // Whoever enables it again lends it their authority (the old one may be what was lost).
      ...(reenable ? grantorOf(actor) : {}),
    });
    if (!r) throw webhookErrors.WEBHOOK_SUBSCRIPTION_NOT_FOUND();
    const fields = Object.keys(patch).filter((k) => patch[k as keyof WebhookInput] !== undefined);
    await recordAudit(uow.trx, { orgId: actor.orgId, actor, action: 'WEBHOOK_UPDATE', target: { type: 'webhook', id }, ip, details: { fields } });
    emitChanged(ctx, uow, actor, r, 'updated');
    uow.afterCommit(() => ctx.index.apply({ row: r }));
    return r;
  });
  return toWebhook(row);
}

export async function deleteWebhook(ctx: WebhooksContext, actor: OrgActor, id: string, ip: string): Promise<void> {
  await inTransaction(ctx.db, async (uow) => {
    if (!(await repo.deleteWebhook(uow.trx, actor.orgId, id))) throw webhookErrors.WEBHOOK_SUBSCRIPTION_NOT_FOUND();
    await recordAudit(uow.trx, { orgId: actor.orgId, actor, action: 'WEBHOOK_DELETE', target: { type: 'webhook', id }, ip });
    emitChanged(ctx, uow, actor, { id, org_id: actor.orgId }, 'deleted');
    uow.afterCommit(() => ctx.index.apply({ deleted: id }));
  });
}

export { emitChanged };

export async function secretOf(ctx: Pick<WebhooksContext, 'vault'>, hook: repo.WebhookWithSecret): Promise<string> {
  return openForOrg(ctx.vault, hook.org_id, secretPurpose(hook.id), { ciphertext: hook.secret_ciphertext, keyVersion: hook.secret_key_version });
}
