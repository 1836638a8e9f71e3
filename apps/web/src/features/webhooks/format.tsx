/** How webhooks read on screen: event names, statuses, times. */
import type { WebhookDelivery, WebhookEventType, WebhookSubscription } from './types';

// Every event a subscription may name, by the contract's type: one added there fails to compile
// here until it has a label. (Not the contract's list itself: that module would bring zod along.)
const EVENT_LABELS: Record<WebhookEventType, string> = {
  'record.created': 'Record created',
  'record.updated': 'Record updated',
  'record.deleted': 'Record deleted',
  'execution.succeeded': 'Execution succeeded',
  'execution.failed': 'Execution failed',
  'usage.alert': 'Usage alert',
};
export const WEBHOOK_EVENT_TYPES = Object.keys(EVENT_LABELS) as WebhookEventType[];

export const eventLabel = (e: string) => (e === 'webhook.test' ? 'Test' : (EVENT_LABELS[e as WebhookEventType] ?? e));

export const when = (t: string | null | undefined) => (t ? new Date(t).toLocaleString() : '—');

/** The events of a subscription in one line, with the model its record events are about. */
export const eventsOf = (w: WebhookSubscription) => `${w.events.map(eventLabel).join(', ')}${w.model ? ` · ${w.model}` : ''}`;

const TONE = {
  delivered: 'bg-emerald-100 text-emerald-900 dark:bg-emerald-950 dark:text-emerald-200',
  failed: 'bg-red-100 text-red-900 dark:bg-red-950 dark:text-red-200',
  pending: 'bg-amber-100 text-amber-900 dark:bg-amber-950 dark:text-amber-200',
  skipped: 'bg-zinc-100 text-zinc-800 dark:bg-zinc-800 dark:text-zinc-200',
} as const;

/** A delivery's status as a small badge, with the last HTTP status code when there is one. */
export function DeliveryStatus({ d }: { d: Pick<WebhookDelivery, 'status' | 'lastStatusCode' | 'nextAttemptAt'> }) {
  const retry = d.status === 'pending' && d.nextAttemptAt ? ` · retry ${new Date(d.nextAttemptAt).toLocaleTimeString()}` : '';
  return (
    <span className={`inline-block rounded-full px-2 py-0.5 text-xs font-medium ${TONE[d.status]}`} data-testid="delivery-status">
      {d.status}
      {d.lastStatusCode !== null ? ` · ${d.lastStatusCode}` : ''}
      {retry}
    </span>
  );
}

/** Enabled, or disabled with the reason (by an admin, a 410 answer, or too many failures). */
export function EnabledState({ w }: { w: WebhookSubscription }) {
  return w.enabled ? (
    <span className="text-emerald-700 dark:text-emerald-400">Enabled</span>
  ) : (
    <span className="text-red-700 dark:text-red-400" title={w.disabledReason ?? undefined}>
      Disabled{w.disabledReason ? `: ${w.disabledReason}` : ''}
    </span>
  );
}
