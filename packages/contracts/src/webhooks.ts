import { z } from 'zod';

/**
 * Outbound webhooks (REST hooks, SPEC §6): subscriptions, their delivery log, and what a delivery
 * carries. The signing secret (`whsec_…`) appears only in the answer to the create request.
 */

/** The events a subscription may name (record events need a model). */
export const WEBHOOK_EVENT_TYPES = ['record.created', 'record.updated', 'record.deleted', 'execution.succeeded', 'execution.failed', 'usage.alert'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const webhookSchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  model: z.string().nullable(),
  filter: z.record(z.string(), z.unknown()).nullable().describe('The records list filter language, evaluated on the event’s record'),
  description: z.string().nullable(),
  enabled: z.boolean(),
  disabledReason: z.string().nullable().describe('Why the server (or an admin) disabled it'),
  createdBy: z.object({ type: z.enum(['user', 'apiKey']), id: z.string().nullable() }).describe('Whose authority deliveries act with'),
  lastSuccessAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type WebhookSubscription = z.infer<typeof webhookSchema>;

export const webhookCreatedSchema = webhookSchema.extend({
  secret: z.string().describe('The signing secret (Standard Webhooks, whsec_…): shown once, never again'),
});

export const webhookAttemptSchema = z.object({
  attempt: z.number().int(),
  statusCode: z.number().int().nullable(),
  durationMs: z.number().int(),
  responseExcerpt: z.string().nullable().describe('The first 1 KB of the response body'),
  error: z.string().nullable(),
  at: z.string(),
});

export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'delivered', 'failed', 'skipped'] as const;

export const webhookDeliverySchema = z.object({
  id: z.string().describe('Also the webhook-id header: the same on every attempt and redelivery'),
  webhookId: z.string(),
  eventId: z.string(),
  eventType: z.string(),
  status: z.enum(WEBHOOK_DELIVERY_STATUSES),
  attemptCount: z.number().int(),
  nextAttemptAt: z.string().nullable(),
  lastStatusCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  attempts: z.array(webhookAttemptSchema),
});
export type WebhookDelivery = z.infer<typeof webhookDeliverySchema>;
