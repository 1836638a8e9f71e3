import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { App } from '../../platform/http/index.js';
import { orgActorOf } from '../access/index.js';
import type { ModelCache } from '../schema/index.js';
import { schemaErrors } from '../schema/index.js';
import type { AiContext } from './ai.service.js';
import { embeddingStatus } from './embeddings.js';
import { monthUsage } from './usage.js';

const nameParams = z.strictObject({ name: z.string().min(1).max(63) });
const usageSchema = z.object({
  period: z.object({ from: z.string(), to: z.string() }),
  calls: z.number(),
  inputTokens: z.number(),
  outputTokens: z.number(),
  limit: z.object({ tokens: z.number().nullable(), used: z.number(), remaining: z.number().nullable() }),
  byModel: z.array(z.object({ provider: z.string(), model: z.string(), kind: z.string(), calls: z.number(), inputTokens: z.number(), outputTokens: z.number(), avgLatencyMs: z.number() })),
});
const statusSchema = z.object({
  enabled: z.boolean(),
  provider: z.string().optional(),
  model: z.string().optional(),
  dimensions: z.number().optional(),
  sourceFields: z.array(z.string()).optional(),
  secretId: z.string().nullable().optional(),
  total: z.number(),
  done: z.number(),
  pending: z.number(),
  failed: z.number(),
  failures: z.array(z.object({ reason: z.string(), count: z.number(), final: z.boolean().optional().describe('true: failed for good until the content changes; false: will be retried') })),
});

export function aiRoutes(ctx: AiContext, deps: { db: Kysely<object>; cache: ModelCache }) {
  return async (app: App) => {
    app.get('/api/v1/usage', {
      config: { access: { permission: 'usage:read' } },
      schema: { tags: ['usage'], summary: 'This month’s model usage: calls and tokens, overall and per provider and model, against the monthly token limit', response: { 200: z.object({ data: usageSchema }) } },
      handler: async (request) => {
        const u = await monthUsage(ctx.db, orgActorOf(request).orgId);
        const used = u.inputTokens + u.outputTokens;
        const limit = ctx.monthlyTokenLimit || null;
        return { data: { ...u, limit: { tokens: limit, used, remaining: limit === null ? null : Math.max(0, limit - used) } } };
      },
    });
    app.get('/api/v1/models/:name/embeddings', {
      config: { access: { permission: 'models:read' } },
      schema: { tags: ['models'], summary: 'Embedding progress of a model: total, done, pending, failed, with failure reasons', params: nameParams, response: { 200: z.object({ data: statusSchema }) } },
      handler: async (request) => {
        const models = await deps.cache.get(orgActorOf(request).orgId);
        const m = models.byName.get(request.params.name);
        if (!m) throw schemaErrors.MODEL_NOT_FOUND();
        return { data: await embeddingStatus(deps.db, models.schema, m) };
      },
    });
  };
}
