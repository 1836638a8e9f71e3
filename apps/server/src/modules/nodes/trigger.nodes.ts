import { defineTrigger, ref } from '@infinity/node-sdk';
import { Cron } from 'croner';
import { z } from 'zod';

/**
 * Triggers: the node a run starts at. The engine hands each the trigger payload as `input`; the
 * trigger's parameters configure how it is reached (see flows/triggers).
 */

export const manualTrigger = defineTrigger({
  type: 'trigger.manual',
  pure: true,
  version: 1,
  title: 'Manual run',
  description: 'Starts the flow from the editor or POST /flows/{id}/run with the given input.',
  category: 'trigger',
  params: z.strictObject({}),
  outputs: ['main'],
  execute: async ({ input }) => Promise.resolve({ main: input }),
});

export const webhookTrigger = defineTrigger({
  type: 'trigger.webhook',
  pure: true,
  version: 1,
  title: 'Webhook',
  description: 'Starts the flow on an HTTP request to /api/v1/hooks/{flowId}/{path}. Emits {method, path, headers, query, body}.',
  category: 'trigger',
  params: z.strictObject({
    path: z
      .string()
      .max(200)
      .regex(/^[A-Za-z0-9._~/-]*$/, 'letters, digits and . _ ~ / - only')
      .default(''),
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'ANY']).default('POST'),
    respond: z
      .enum(['immediately', 'whenFinished'])
      .default('immediately')
      .describe('immediately: 202 with the execution id; whenFinished: the output node’s data'),
    auth: z.enum(['none', 'apiKey', 'hmac']).default('none'),
    signature: z
      .strictObject({
        style: z.enum(['generic', 'stripe', 'github']).default('generic'),
        secretId: ref('secret', z.uuid()).describe('vault secret holding the signing secret'),
        header: z
          .string()
          .max(100)
          .optional()
          .describe('generic: the header carrying the hex HMAC-SHA256 of "<X-Infinity-Timestamp>.<body>" (default x-signature)'),
        toleranceSec: z
          .number()
          .int()
          .min(1)
          .max(3600)
          .default(300)
          .describe('generic and stripe: maximum age of the signed timestamp; a signature is accepted once within it'),
      })
      .optional(),
  }),
  outputs: ['main'],
  execute: async ({ input }) => Promise.resolve({ main: input }),
});

export const scheduleTrigger = defineTrigger({
  type: 'trigger.schedule',
  pure: true,
  version: 1,
  title: 'Schedule',
  description: 'Starts the flow on a cron schedule (with seconds) in a time zone. Emits {firedAt, scheduledFor}.',
  category: 'trigger',
  params: z
    .strictObject({
      cron: z.string().min(1).max(200).describe('six fields with seconds ("*/10 * * * * *") or five'),
      timezone: z.string().max(100).default('UTC'),
    })
    .superRefine((p, ctx) => {
      try {
        new Cron(p.cron, { timezone: p.timezone, paused: true, mode: '5-or-6-parts' }).stop();
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: ['cron'], message: `invalid cron or time zone: ${(err as Error).message}` });
      }
    }),
  outputs: ['main'],
  execute: async ({ input }) => Promise.resolve({ main: input }),
});

export const recordTrigger = defineTrigger({
  type: 'trigger.record',
  pure: true,
  version: 1,
  title: 'Record event',
  description: 'Starts the flow when a record of a model is created, updated or deleted and matches a filter. Emits {event, model, record, changed}.',
  category: 'trigger',
  params: z.strictObject({
    model: ref('model', z.string().min(1).max(63)),
    events: z
      .array(z.enum(['created', 'updated', 'deleted']))
      .min(1)
      .default(['created']),
    filter: z.record(z.string(), z.unknown()).optional().describe('the records filter language as JSON'),
  }),
  outputs: ['main'],
  execute: async ({ input }) => Promise.resolve({ main: input }),
});

export const triggerNodes = [manualTrigger, webhookTrigger, scheduleTrigger, recordTrigger];
