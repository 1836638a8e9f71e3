import { z } from 'zod';
import { SEARCH_WIDTH_DEFAULTS } from '@infinity/contracts';
import type { Kysely } from 'kysely';
import type { App } from '../../platform/http/index.js';
import { orgActorOf } from '../access/index.js';
import type { ModelCache, ModelDef } from '../schema/index.js';
import { schemaErrors } from '../schema/index.js';
import { embeddingStatus } from './embeddings.js';

const nameParams = z.strictObject({ name: z.string().min(1).max(63) });
const widthSchema = z
  .object({
    width: z.number().optional().describe('The search width now used'),
    recall: z.number().optional().describe('Recall@k measured at that width against exact answers'),
    samples: z.number().optional(),
    at: z.string().optional(),
    tookMs: z.number().optional().describe('How long the measurement took, queued behind other queries'),
    error: z.string().optional().describe('Why the last measurement failed (the previous width stays)'),
  })
  .nullable();
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
  failures: z.array(
    z.object({
      reason: z.string(),
      count: z.number(),
      final: z.boolean().optional().describe('true: failed for good until the content changes; false: will be retried'),
    }),
  ),
  search: z
    .object({ plain: widthSchema, filtered: widthSchema })
    .describe(
      `The HNSW search widths measured on this model’s own recent vector searches, without and with a filter (null: not measured yet; the defaults ${SEARCH_WIDTH_DEFAULTS.plain} and ${SEARCH_WIDTH_DEFAULTS.filtered} apply)`,
    ),
});

export function aiRoutes(deps: { db: Kysely<object>; cache: ModelCache; searchWidths: (model: ModelDef) => z.infer<typeof statusSchema>['search'] }) {
  return async (app: App) => {
    app.get('/api/v1/models/:name/embeddings', {
      config: { access: { permission: 'models:read' } },
      schema: {
        operationId: 'getEmbeddingProgress',
        tags: ['models'],
        summary: 'Embedding progress of a model: total, done, pending, failed, with failure reasons',
        params: nameParams,
        response: { 200: z.object({ data: statusSchema }) },
      },
      handler: async (request) => {
        const models = await deps.cache.get(orgActorOf(request).orgId);
        const m = models.byName.get(request.params.name);
        if (!m) throw schemaErrors.MODEL_NOT_FOUND();
        return { data: { ...(await embeddingStatus(deps.db, models.schema, m)), search: deps.searchWidths(m) } };
      },
    });
  };
}
