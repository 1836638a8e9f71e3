import { listMetaSchema } from '@infinity/contracts';
import { z } from 'zod';
import { type App, idParams, listMeta, pageQuery } from '../../platform/http/index.js';
import { orgActorOf } from '../access/index.js';
import { allowedHostsSchema } from './vault.hosts.js';
import * as vault from './vault.service.js';

const secretSchema = z.object({
  id: z.string(),
  name: z.string(),
  provider: z.enum(vault.PROVIDERS),
  baseUrl: z.string().nullable(),
  allowedHosts: z
    .array(z.string())
    .describe('Hosts the secret may be sent to (names, *.example.com, IP addresses); a request carrying it elsewhere is refused'),
  hint: z.string().describe('Masked: the first and last characters only'),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const name = z.string().trim().min(1).max(100);
const value = z.string().min(1).max(16_384);
const baseUrl = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).max(2000);

export function vaultRoutes(ctx: vault.VaultContext) {
  return async (app: App) => {
    app.get('/api/v1/secrets', {
      config: { access: { permission: 'secrets:read' } },
      schema: {
        operationId: 'listSecrets',
        tags: ['vault'],
        summary: 'Secrets of this organization (values are never returned)',
        querystring: pageQuery,
        response: { 200: z.object({ data: z.array(secretSchema), meta: listMetaSchema }) },
      },
      handler: async (request) => {
        const [list, total] = await Promise.all([
          vault.listSecrets(ctx, orgActorOf(request), request.query.limit, request.query.offset),
          vault.countSecrets(ctx, orgActorOf(request)),
        ]);
        return { data: list, meta: listMeta(total, request.query.limit, request.query.offset) };
      },
    });
    app.post('/api/v1/secrets', {
      config: { access: { permission: 'secrets:manage' } },
      schema: {
        operationId: 'createSecret',
        tags: ['vault'],
        summary: 'Store a third-party key, encrypted with AES-256-GCM',
        description:
          'allowedHosts: where the secret may be sent. Default for a provider secret: the provider’s API host(s) and the host of its baseUrl. A generic secret must name its hosts (422 VAULT_SECRET_HOSTS_REQUIRED without them); [] for one that is never sent, such as a webhook signing secret.',
        body: z.strictObject({ name, provider: z.enum(vault.PROVIDERS), value, baseUrl: baseUrl.optional(), allowedHosts: allowedHostsSchema.optional() }),
        response: { 201: z.object({ data: secretSchema }) },
      },
      handler: async (request, reply) => reply.status(201).send({ data: await vault.createSecret(ctx, orgActorOf(request), request.body, request.ip) }),
    });
    app.get('/api/v1/secrets/:id', {
      config: { access: { permission: 'secrets:read' } },
      schema: {
        operationId: 'getSecret',
        summary: 'One secret, without its value',
        tags: ['vault'],
        params: idParams,
        response: { 200: z.object({ data: secretSchema }) },
      },
      handler: async (request) => ({ data: await vault.getSecret(ctx, orgActorOf(request), request.params.id) }),
    });
    app.patch('/api/v1/secrets/:id', {
      config: { access: { permission: 'secrets:manage' } },
      schema: {
        operationId: 'updateSecret',
        tags: ['vault'],
        summary: 'Rename, change the base URL or the allowed hosts, or replace the value',
        description: 'allowedHosts replaces the list. A new baseUrl adds its host to the list unless allowedHosts is given too.',
        params: idParams,
        body: z
          .strictObject({ name: name.optional(), value: value.optional(), baseUrl: baseUrl.nullable().optional(), allowedHosts: allowedHostsSchema.optional() })
          .refine((b) => Object.keys(b).length > 0, 'give at least one of name, value, baseUrl, allowedHosts'),
        response: { 200: z.object({ data: secretSchema }) },
      },
      handler: async (request) => ({ data: await vault.updateSecret(ctx, orgActorOf(request), request.params.id, request.body, request.ip) }),
    });
    app.delete('/api/v1/secrets/:id', {
      config: { access: { permission: 'secrets:manage' } },
      schema: { operationId: 'deleteSecret', summary: 'Delete a secret', tags: ['vault'], params: idParams },
      handler: async (request, reply) => {
        await vault.deleteSecret(ctx, orgActorOf(request), request.params.id, request.ip);
        return reply.status(204).send();
      },
    });
  };
}
