import { listMetaSchema, roleSchema } from '@infinity/contracts';
import { z } from 'zod';
import { type App, idParams, listMeta, pageQuery } from '../../platform/http/index.js';
import { orgActorOf } from '../access/index.js';
import * as apiKeys from './api-keys.service.js';
import type { IdentityContext } from './identity.context.js';

const apiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  role: roleSchema.describe('the role the key was given; a personal key acts with the lower of this and its creator’s current role'),
  kind: z.enum(['personal', 'service']).describe('personal: acts for its creator and stops when they leave; service: the organization’s own key'),
  createdBy: z.string().nullable(),
  createdByName: z.string().nullable().describe('the creator’s name, null once that account is gone'),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  rateLimit: z.number().nullable().describe('requests a minute this key may make; null = the instance default'),
});

const createBody = z.strictObject({
  name: z.string().trim().min(1).max(100),
  role: roleSchema,
  kind: z
    .enum(['personal', 'service'])
    .default('personal')
    .describe('service: a service-account key owned by the organization, which keeps working when its creator leaves (owners and admins)'),
  expiresAt: z.iso
    .datetime({ offset: true })
    .refine((s) => new Date(s).getTime() > Date.now(), 'must be in the future')
    .optional(),
  rateLimit: z
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .optional()
    .describe('requests a minute this key may make (n8n, Make and Zapier keys of one team can be held apart)'),
});

export function apiKeyRoutes(ctx: IdentityContext) {
  return async (app: App) => {
    app.get('/api/v1/api-keys', {
      config: { access: { permission: 'apiKeys:manage' } },
      schema: {
        operationId: 'listApiKeys',
        summary: 'API keys of this organization (the keys themselves are never shown again)',
        tags: ['api keys'],
        querystring: pageQuery,
        response: { 200: z.object({ data: z.array(apiKeySchema), meta: listMetaSchema }) },
      },
      handler: async (request) => {
        const [list, total] = await Promise.all([
          apiKeys.listApiKeys(ctx, orgActorOf(request), request.query.limit, request.query.offset),
          apiKeys.countApiKeys(ctx, orgActorOf(request)),
        ]);
        return { data: list, meta: listMeta(total, request.query.limit, request.query.offset) };
      },
    });
    app.post('/api/v1/api-keys', {
      config: { access: { permission: 'apiKeys:manage' } },
      schema: {
        operationId: 'createApiKey',
        tags: ['api keys'],
        summary: 'Create a key for n8n, Make or Zapier. The key is in this response only.',
        body: createBody,
        response: { 201: z.object({ data: apiKeySchema.extend({ key: z.string() }) }) },
      },
      handler: async (request, reply) => {
        const b = request.body;
        const created = await apiKeys.createApiKey(
          ctx,
          orgActorOf(request),
          { name: b.name, role: b.role, kind: b.kind, expiresAt: b.expiresAt ? new Date(b.expiresAt) : undefined, rateLimit: b.rateLimit },
          request.ip,
        );
        return reply.status(201).send({ data: created });
      },
    });
    app.delete('/api/v1/api-keys/:id', {
      config: { access: { permission: 'apiKeys:manage' } },
      schema: { operationId: 'revokeApiKey', tags: ['api keys'], summary: 'Revoke a key (takes effect at once on this instance)', params: idParams },
      handler: async (request, reply) => {
        await apiKeys.revokeApiKey(ctx, orgActorOf(request), request.params.id, request.ip);
        return reply.status(204).send();
      },
    });
  };
}
