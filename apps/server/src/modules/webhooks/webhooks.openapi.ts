import { z } from 'zod';

/**
 * The OpenAPI 3.1 `webhooks` section: what each delivery carries, per event type (the document
 * at /api/v1/openapi.json and /docs). The payload is built by webhooks.payload.ts.
 */
const record = z.record(z.string(), z.unknown()).describe('The record as the API returns it (id, createdAt, updatedAt and the model’s fields)');
const actor = z
  .object({ type: z.enum(['user', 'apiKey', 'flow', 'service', 'system']), id: z.string().nullable() })
  .nullable()
  .describe('Who made the change');
const cause = z
  .object({ type: z.literal('cascade'), model: z.string(), recordId: z.string() })
  .optional()
  .describe('Set when the change followed the delete of another record (on delete cascade / set null)');

const DATA = {
  'record.created': z.object({ model: z.string(), record, actor }),
  'record.updated': z.object({
    model: z.string(),
    record: record.describe('The record after the change'),
    previous: record.nullable().describe('The record before the change (null when the writer did not read it: bulk set-null)'),
    changed: z.array(z.string()).describe('Field names the write touched'),
    actor,
    cause,
  }),
  'record.deleted': z.object({ model: z.string(), record: record.describe('The record as it was'), actor, cause }),
  'execution.succeeded': z.object({ executionId: z.string(), flowId: z.string(), status: z.literal('succeeded'), durationMs: z.number() }),
  'execution.failed': z.object({
    executionId: z.string(),
    flowId: z.string(),
    status: z.literal('failed'),
    durationMs: z.number(),
    error: z.object({ code: z.string(), message: z.string(), nodeId: z.string().optional() }).nullable(),
  }),
  'usage.alert': z.object({
    metric: z.string(),
    percent: z.number().describe('80 or 100'),
    used: z.number(),
    limit: z.number(),
    notificationId: z.string(),
  }),
  'webhook.test': z.object({ webhookId: z.string(), message: z.string() }),
} as const;

const SUMMARY: Record<keyof typeof DATA, string> = {
  'record.created': 'A record of the subscription’s model was created (and matches its filter)',
  'record.updated': 'A record of the subscription’s model was changed (its new state matches the filter)',
  'record.deleted': 'A record of the subscription’s model was deleted (its last state matches the filter)',
  'execution.succeeded': 'A flow execution finished successfully',
  'execution.failed': 'A flow execution failed',
  'usage.alert': 'The organization passed 80% or 100% of a plan limit',
  'webhook.test': 'Sent by POST /api/v1/webhooks/{id}/test',
};

const header = (name: string, description: string) => ({ name, in: 'header', required: true, schema: { type: 'string' }, description });

function jsonSchema(s: z.ZodType): Record<string, unknown> {
  const out = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}

export function webhooksOpenApi(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [type, data] of Object.entries(DATA)) {
    const body = z.object({
      id: z.string().describe('The event id (the same for every subscription that receives the event)'),
      type: z.literal(type),
      timestamp: z.string().describe('When the change was committed (ISO 8601 UTC)'),
      data,
    });
    out[type] = {
      post: {
        // record.created → onRecordCreated: what a receiver's handler of this event is called.
        operationId: `on${type.replace(/(^|\.)([a-z])/g, (_m, _dot, c: string) => c.toUpperCase())}`,
        summary: SUMMARY[type as keyof typeof DATA],
        description:
          'Signed per Standard Webhooks: verify `webhook-signature` over `webhook-id.webhook-timestamp.body` with the subscription’s `whsec_…` secret (e.g. `new Webhook(secret).verify(body, headers)` from the `standardwebhooks` package). Answer 2xx within 10 s; anything else is retried with backoff for about a day; `410 Gone` disables the subscription.',
        parameters: [
          header('webhook-id', 'The delivery id: the same on every retry and redelivery (deduplicate on it)'),
          header('webhook-timestamp', 'Seconds since the epoch when this attempt was signed'),
          header('webhook-signature', '`v1,<base64 HMAC-SHA256>`'),
        ],
        requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(body) } } },
        responses: { '2XX': { description: 'Delivered' }, '410': { description: 'Gone: the subscription is disabled at once' } },
      },
    };
  }
  return out;
}
