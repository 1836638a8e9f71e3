import type { DomainEvent as TypedEvent } from '@infinity/contracts';

/**
 * What a delivery carries: `{id, type, timestamp, data}` (Standard Webhooks' payload shape, plus
 * the event id). `data` per type is documented in the OpenAPI document's `webhooks` section
 * (webhooks.openapi.ts) and docs/api.md.
 */
export function dataOf(e: TypedEvent): Record<string, unknown> {
  switch (e.type) {
    case 'record.created':
      return { model: e.model, record: e.after, actor: e.actor ?? null };
    case 'record.updated':
      return {
        model: e.model,
        record: e.after,
        previous: e.before ?? null,
        changed: e.changed,
        actor: e.actor ?? null,
        ...(e.cause ? { cause: e.cause } : {}),
      };
    case 'record.deleted':
      return { model: e.model, record: e.before, actor: e.actor ?? null, ...(e.cause ? { cause: e.cause } : {}) };
    case 'execution.succeeded':
      return { executionId: e.executionId, flowId: e.flowId, status: 'succeeded', durationMs: e.durationMs };
    case 'execution.failed':
      return { executionId: e.executionId, flowId: e.flowId, status: 'failed', durationMs: e.durationMs, error: e.error ?? null };
    case 'usage.alert':
      return { metric: e.metric, percent: e.percent, used: e.used, limit: e.limit, notificationId: e.notificationId };
    default:
      throw new Error(`webhooks do not deliver ${e.type}`);
  }
}

export function bodyOf(e: TypedEvent): string {
  return JSON.stringify({ id: e.id, type: e.type, timestamp: e.at, data: dataOf(e) });
}

/** The record a record event is about (what a subscription's filter is evaluated on). */
export function recordOf(e: TypedEvent): Record<string, unknown> | undefined {
  if (e.type === 'record.created' || e.type === 'record.updated') return e.after;
  if (e.type === 'record.deleted') return e.before;
  return undefined;
}
