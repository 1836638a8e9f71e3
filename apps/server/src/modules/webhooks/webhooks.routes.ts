import { WEBHOOK_DELIVERY_STATUSES, listMetaSchema, webhookCreatedSchema, webhookDeliverySchema, webhookSchema } from '@infinity/contracts';
import { z } from 'zod';
import { type App, emptyBody, idParams, listMeta, pageQuery, uuidParam } from '../../platform/http/index.js';
import { orgActorOf } from '../access/index.js';
import * as deliveries from './webhooks.delivery.js';
import * as hooks from './webhooks.service.js';
import { WEBHOOK_EVENT_NAMES } from './webhooks.subscriptions.js';

const url = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).max(2000);
const fields = {
  url,
  events: z
    .array(z.string().max(100))
    .min(1)
    .max(20)
    .describe(`Any of ${WEBHOOK_EVENT_NAMES.join(', ')}`),
  model: z.string().min(1).max(63).nullish().describe('Required with record.* events (and only with them)'),
  filter: z
    .record(z.string(), z.unknown())
    .nullish()
    .describe('The records list filter language (as filter=<JSON> of GET /data/{model}); only matching records are delivered'),
  description: z.string().max(500).nullish(),
  enabled: z.boolean().optional(),
};
const createBody = z.strictObject(fields);
const patchBody = z
  .strictObject({ ...fields, url: url.optional(), events: fields.events.optional() })
  .refine((b) => Object.keys(b).length > 0, 'give at least one field');
const deliveryParams = z.strictObject({ id: uuidParam, deliveryId: uuidParam });
const deliveriesQuery = pageQuery.extend({ status: z.enum(WEBHOOK_DELIVERY_STATUSES).optional() });

export function webhookRoutes(ctx: deliveries.DeliveryContext) {
  return async (app: App) => {
    app.get('/api/v1/webhooks', {
      config: { access: { permission: 'webhooks:read' } },
      schema: {
        operationId: 'listWebhooks',
        tags: ['webhooks'],
        summary: 'Outbound webhook subscriptions of this organization (secrets are never returned)',
        querystring: pageQuery,
        response: { 200: z.object({ data: z.array(webhookSchema), meta: listMetaSchema }) },
      },
      handler: async (request) => {
        const { data, total } = await hooks.listWebhooks(ctx, orgActorOf(request), request.query.limit, request.query.offset);
        return { data, meta: listMeta(total, request.query.limit, request.query.offset) };
      },
    });
    app.post('/api/v1/webhooks', {
      config: { access: { permission: 'webhooks:manage' } },
      schema: {
        operationId: 'createWebhook',
        tags: ['webhooks'],
        summary: 'Subscribe a URL to events (REST hook); the answer holds the signing secret, once',
        description:
          'The URL must pass the outbound guard (422 WEBHOOK_TARGET_REFUSED for private or reserved addresses unless INFINITY_HTTP_ALLOW opens them). Deliveries act with the authority of whoever creates the subscription (a member, or an API key: use a service-account key for integrations).',
        body: createBody,
        response: { 201: z.object({ data: webhookCreatedSchema }) },
      },
      handler: async (request, reply) => reply.status(201).send({ data: await hooks.createWebhook(ctx, orgActorOf(request), request.body, request.ip) }),
    });
    app.get('/api/v1/webhooks/:id', {
      config: { access: { permission: 'webhooks:read' } },
      schema: {
        operationId: 'getWebhook',
        summary: 'One webhook subscription (its signing secret is never returned)',
        tags: ['webhooks'],
        params: idParams,
        response: { 200: z.object({ data: webhookSchema }) },
      },
      handler: async (request) => ({ data: await hooks.getWebhook(ctx, orgActorOf(request), request.params.id) }),
    });
    app.patch('/api/v1/webhooks/:id', {
      config: { access: { permission: 'webhooks:manage' } },
      schema: {
        operationId: 'updateWebhook',
        tags: ['webhooks'],
        summary: 'Change a subscription, or disable / enable it',
        description: 'Enabling a disabled subscription makes the caller the authority its deliveries act with.',
        params: idParams,
        body: patchBody,
        response: { 200: z.object({ data: webhookSchema }) },
      },
      handler: async (request) => ({ data: await hooks.updateWebhook(ctx, orgActorOf(request), request.params.id, request.body, request.ip) }),
    });
    app.delete('/api/v1/webhooks/:id', {
      config: { access: { permission: 'webhooks:manage' } },
      schema: { operationId: 'deleteWebhook', tags: ['webhooks'], summary: 'Unsubscribe (REST hook unsubscribe by id)', params: idParams },
      handler: async (request, reply) => {
        await hooks.deleteWebhook(ctx, orgActorOf(request), request.params.id, request.ip);
        return reply.status(204).send();
      },
    });
    app.get('/api/v1/webhooks/:id/deliveries', {
      config: { access: { permission: 'webhooks:read' } },
      schema: {
        operationId: 'listWebhookDeliveries',
        tags: ['webhooks'],
        summary: 'The delivery log, newest first, each delivery with its attempts',
        params: idParams,
        querystring: deliveriesQuery,
        response: { 200: z.object({ data: z.array(webhookDeliverySchema), meta: listMetaSchema }) },
      },
      handler: async (request) => {
        const q = request.query;
        const { data, total } = await deliveries.listDeliveries(ctx, orgActorOf(request), request.params.id, q);
        return { data, meta: listMeta(total, q.limit, q.offset) };
      },
    });
    app.post('/api/v1/webhooks/:id/deliveries/:deliveryId/redeliver', {
      config: { access: { permission: 'webhooks:manage' } },
      schema: {
        operationId: 'redeliverWebhookDelivery',
        tags: ['webhooks'],
        summary: 'Send a delivery again now (same body and webhook-id, a new attempt); answers with the delivery after the attempt',
        params: deliveryParams,
        body: emptyBody,
        response: { 200: z.object({ data: webhookDeliverySchema }) },
      },
      handler: async (request) => ({ data: await deliveries.redeliver(ctx, orgActorOf(request), request.params.id, request.params.deliveryId) }),
    });
    app.post('/api/v1/webhooks/:id/test', {
      config: { access: { permission: 'webhooks:manage' } },
      schema: {
        operationId: 'testWebhook',
        tags: ['webhooks'],
        summary: 'Send a webhook.test event to this subscription now; answers with the delivery after the attempt',
        params: idParams,
        body: emptyBody,
        response: { 200: z.object({ data: webhookDeliverySchema }) },
      },
      handler: async (request) => ({ data: await deliveries.sendTest(ctx, orgActorOf(request), request.params.id) }),
    });
  };
}
