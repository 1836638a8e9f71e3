import type { DomainEvent as TypedEvent } from '@infinity/contracts';
import { inTransaction } from '../../platform/db/index.js';
import { AppError } from '../../platform/errors.js';
import { derivedId, newId } from '../../platform/ids.js';
import type { Logger } from '../../platform/logger.js';
import type { OrgActor, ServiceActor } from '../access/index.js';
import type { Authority } from '../identity/index.js';
import { type ApiRecord, checkFilter, recordsMatchEach } from '../records/index.js';
import { insertNotification } from '../usage/index.js';
import { webhookErrors } from './webhooks.errors.js';
import { bodyOf, recordOf } from './webhooks.payload.js';
import type { Subscription } from './webhooks.subscriptions.js';
import * as repo from './webhooks.repo.js';
import { type SenderHook, attemptFields, authorityLost } from './webhooks.sender.js';
import { type WebhooksContext, emitChanged } from './webhooks.service.js';

/**
 * From events to deliveries: the spine's durable consumer writes one delivery per matching
 * subscription (its id derived from the event and the subscription, so a redelivered event writes
 * nothing new and keeps its webhook-id), the sender sends them. Also: sends by hand (redeliver,
 * test) and disabling a subscription with a notification.
 */
export interface DeliveryContext extends WebhooksContext {
  authorityOf: (hook: repo.WebhookWithSecret) => Promise<Authority>;
  logger: Pick<Logger, 'warn' | 'error'>;
}

export const deliveryIdOf = (e: Pick<TypedEvent, 'id' | 'at'>, webhookId: string) => derivedId(new Date(e.at), `${e.id}:${webhookId}`);

/**
 * The consumer's `handle` (one insert for a batch of events): idempotent on (event, subscription).
 * Filters are evaluated once per subscription for the whole batch (one statement each).
 */
export async function deliveriesFor(ctx: DeliveryContext, events: TypedEvent[]): Promise<void> {
  const now = new Date(ctx.sender.clock.now());
  // The subscriptions each event goes to, read once: the index may change while filters are evaluated.
  const targets = events.map((e) => ({ e, subs: ctx.index.matching(e), record: recordOf(e) }));
  const passed = await filtersPassed(ctx, targets);
  const rows: repo.NewDelivery[] = [];
  for (const [i, { e, subs }] of targets.entries()) {
    let body: string | undefined;
    for (const s of subs) {
      if (passed.get(s)?.[i] === false) continue;
      body ??= bodyOf(e);
      rows.push({
        id: deliveryIdOf(e, s.id),
        webhook_id: s.id,
        org_id: e.orgId,
        event_id: e.id,
        event_type: e.type,
        body,
        status: 'pending',
        next_attempt_at: now,
        created_at: now,
      });
    }
  }
  if (!rows.length) return;
  await repo.insertDeliveries(ctx.db, rows);
  ctx.sender.wake();
}

type Target = { e: TypedEvent; subs: Subscription[]; record: Record<string, unknown> | undefined };

/**
 * For each subscription with a filter, whether each event of the batch (by index) passes it,
 * evaluated exactly as the list API would (the same compiler, relations included), all its
 * records in one statement. Events a subscription does not take are left undefined.
 */
async function filtersPassed(ctx: DeliveryContext, targets: Target[]): Promise<Map<Subscription, (boolean | undefined)[]>> {
  const bySub = new Map<Subscription, number[]>();
  for (const [i, t] of targets.entries())
    for (const s of t.subs)
      if (s.filter && s.model && t.record) {
        const at = bySub.get(s);
        if (at) at.push(i);
        else bySub.set(s, [i]);
      }
  const out = new Map<Subscription, (boolean | undefined)[]>();
  for (const [s, at] of bySub) {
    const actor: ServiceActor = { kind: 'service', service: 'webhooks', orgId: s.orgId, role: 'viewer' };
    const model = s.model!;
    const each = await (async () => {
      const node = await checkFilter(ctx.records, actor, model, s.filter);
      if (!node) return at.map(() => true);
      const m = await recordsMatchEach(
        ctx.records,
        actor,
        model,
        [node],
        at.map((i) => targets[i]!.record as ApiRecord),
      );
      return m.map((r) => r[0] === true);
    })().catch((err: unknown) => {
      // The model (or a field the filter names) is gone: this subscription matches nothing, and
      // the other subscriptions are not held back by it. Anything else is retried.
      if (err instanceof AppError && err.status < 500) {
        ctx.logger.warn({ webhookId: s.id, code: err.code }, 'a webhook filter no longer applies to its model; the event is not delivered to it');
        return at.map(() => false);
      }
      throw err;
    });
    const passed: (boolean | undefined)[] = [];
    at.forEach((i, k) => (passed[i] = each[k]));
    out.set(s, passed);
  }
  return out;
}

/**
 * Disables a subscription once (a concurrent disable finds it disabled and does nothing), skips
 * what it still had pending, and tells the organization's owners and admins: an in-app
 * notification (and an e-mail where SMTP is configured), committed with the change.
 */
export async function disableWebhook(ctx: DeliveryContext, hook: SenderHook, reason: string): Promise<void> {
  await inTransaction(ctx.db, async (uow) => {
    const row = await repo.disableWebhook(uow.trx, hook.id, reason);
    if (!row) return;
    await repo.skipPendingOf(uow.trx, hook.id, `subscription disabled: ${reason}`);
    const n = await insertNotification(uow.trx as never, {
      orgId: hook.org_id,
      kind: 'webhook.disabled',
      title: 'A webhook subscription was disabled',
      body: `The webhook subscription to ${hostOf(hook.url)} was disabled. ${reason} Fix the target or its authority, then enable it again (deliveries it skipped can be redelivered from its delivery log).`,
      data: { webhookId: hook.id, reason },
    });
    emitChanged(ctx, uow, null, row, 'disabled');
    ctx.events.emit(uow, {
      type: 'notification.created',
      orgId: hook.org_id,
      permission: 'notifications:read',
      actor: { type: 'system', id: null },
      notificationId: n.id,
      kind: n.kind,
      title: n.title,
    });
    uow.afterCommit(() => ctx.index.apply({ row }));
  });
}

/** Only the host: a target URL may carry a token in its path (Zapier's do). */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'its target';
  }
}

type DeliveryRow = Awaited<ReturnType<typeof repo.listDeliveries>>['rows'][number];
type AttemptRow = Awaited<ReturnType<typeof repo.attemptsOf>>[number];

export function toDelivery(d: DeliveryRow, attempts: AttemptRow[]) {
  return {
    id: d.id,
    webhookId: d.webhook_id,
    eventId: d.event_id,
    eventType: d.event_type,
    status: d.status,
    attemptCount: d.attempts,
    nextAttemptAt: d.next_attempt_at ? new Date(d.next_attempt_at).toISOString() : null,
    lastStatusCode: d.last_status_code,
    lastError: d.last_error,
    createdAt: new Date(d.created_at).toISOString(),
    updatedAt: new Date(d.updated_at).toISOString(),
    attempts: attempts
      .filter((a) => a.delivery_id === d.id)
      .map((a) => ({
        attempt: a.attempt,
        statusCode: a.status_code,
        durationMs: a.duration_ms,
        responseExcerpt: a.response_excerpt,
        error: a.error,
        at: new Date(a.at).toISOString(),
      })),
  };
}
export type DeliveryDto = ReturnType<typeof toDelivery>;

async function hookOf(ctx: DeliveryContext, actor: OrgActor, id: string): Promise<repo.WebhookWithSecret> {
  const hook = await repo.webhookWithSecret(ctx.db, id);
  if (!hook || hook.org_id !== actor.orgId) throw webhookErrors.WEBHOOK_SUBSCRIPTION_NOT_FOUND();
  return hook;
}

export async function listDeliveries(
  ctx: DeliveryContext,
  actor: OrgActor,
  webhookId: string,
  f: { limit: number; offset: number; status?: repo.DeliveryStatus | undefined },
) {
  await hookOf(ctx, actor, webhookId);
  const { rows, total } = await repo.listDeliveries(ctx.db, actor.orgId, webhookId, f);
  const attempts = await repo.attemptsOf(
    ctx.db,
    rows.map((r) => r.id),
  );
  return { data: rows.map((r) => toDelivery(r, attempts)), total };
}

/**
 * Sends one delivery now, by hand (redeliver, test): the same body and webhook-id, a new attempt
 * in its log, no automatic retries. Refused while the subscription is disabled.
 */
async function sendNow(ctx: DeliveryContext, hook: repo.WebhookWithSecret, deliveryId: string, body: string, eventType: string): Promise<void> {
  if (!hook.enabled)
    throw webhookErrors.WEBHOOK_SUBSCRIPTION_DISABLED(`The subscription is disabled (${hook.disabled_reason ?? 'by an admin'}); enable it first.`);
  const lost = authorityLost(await ctx.authorityOf(hook), eventType);
  if (lost) {
    await disableWebhook(ctx, hook, `Its authority was lost: ${lost}.`);
    throw webhookErrors.WEBHOOK_SUBSCRIPTION_DISABLED(`The subscription was disabled: its authority was lost (${lost}).`);
  }
  const attempt = await repo.startManualAttempt(ctx.db, deliveryId);
  const out = await ctx.sender.attempt(hook, deliveryId, body);
  const at = new Date(ctx.sender.clock.now());
  await repo.recordAttempts(ctx.db, [{ ...attemptFields(out), deliveryId, attempt, status: out.status, nextAttemptAt: null, at }]);
  if (out.status === 'delivered') await repo.noteSuccess(ctx.db, [hook.id], at);
  if (out.gone) await disableWebhook(ctx, hook, 'The target answered 410 Gone.');
}

async function deliveryDto(ctx: DeliveryContext, actor: OrgActor, webhookId: string, id: string): Promise<DeliveryDto> {
  const d = await repo.findDelivery(ctx.db, actor.orgId, webhookId, id);
  if (!d) throw webhookErrors.WEBHOOK_DELIVERY_NOT_FOUND();
  return toDelivery(d, await repo.attemptsOf(ctx.db, [id]));
}

export async function redeliver(ctx: DeliveryContext, actor: OrgActor, webhookId: string, deliveryId: string): Promise<DeliveryDto> {
  const hook = await hookOf(ctx, actor, webhookId);
  const d = await repo.findDelivery(ctx.db, actor.orgId, webhookId, deliveryId);
  if (!d) throw webhookErrors.WEBHOOK_DELIVERY_NOT_FOUND();
  await sendNow(ctx, hook, d.id, d.body, d.event_type);
  return deliveryDto(ctx, actor, webhookId, deliveryId);
}

/** A `webhook.test` event to this subscription alone, sent now; it is in the delivery log like any other. */
export async function sendTest(ctx: DeliveryContext, actor: OrgActor, webhookId: string): Promise<DeliveryDto> {
  const hook = await hookOf(ctx, actor, webhookId);
  if (!hook.enabled)
    throw webhookErrors.WEBHOOK_SUBSCRIPTION_DISABLED(`The subscription is disabled (${hook.disabled_reason ?? 'by an admin'}); enable it first.`);
  const id = newId();
  const at = new Date(ctx.sender.clock.now()).toISOString();
  const body = JSON.stringify({ id, type: 'webhook.test', timestamp: at, data: { webhookId, message: 'A test delivery from Infinity.' } });
  await repo.insertDeliveries(ctx.db, [
    {
      id,
      webhook_id: webhookId,
      org_id: actor.orgId,
      event_id: id,
      event_type: 'webhook.test',
      body,
      status: 'pending',
      next_attempt_at: null,
      created_at: new Date(at),
    },
  ]);
  await sendNow(ctx, hook, id, body, 'webhook.test');
  return deliveryDto(ctx, actor, webhookId, id);
}
