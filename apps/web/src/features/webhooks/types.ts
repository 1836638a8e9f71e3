/** The webhooks API's shapes (SPEC §6; the server's contracts). */
export const WEBHOOK_EVENT_TYPES = ['record.created', 'record.updated', 'record.deleted', 'execution.succeeded', 'execution.failed', 'usage.alert'] as const;

export interface WebhookSubscription {
  id: string;
  url: string;
  events: string[];
  model: string | null;
  filter: Record<string, unknown> | null;
  description: string | null;
  enabled: boolean;
  disabledReason: string | null;
  createdBy: { type: 'user' | 'apiKey'; id: string | null };
  lastSuccessAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface WebhookAttempt {
  attempt: number;
  statusCode: number | null;
  durationMs: number;
  responseExcerpt: string | null;
  error: string | null;
  at: string;
}

export interface WebhookDelivery {
  id: string;
  webhookId: string;
  eventId: string;
  eventType: string;
  status: 'pending' | 'delivered' | 'failed' | 'skipped';
  attemptCount: number;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  attempts: WebhookAttempt[];
}
