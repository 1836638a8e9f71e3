import { z } from 'zod';
import { type App, plainJsonSerializer } from '../../platform/http/index.js';
import { orgActorOf } from '../access/index.js';
import { type VectorsContext, searchBodySchema, searchRecords } from './vectors.service.js';

const modelParams = z.strictObject({ model: z.string().min(1).max(63) });
const recordSchema = z.record(z.string(), z.unknown()).describe('id, createdAt, updatedAt, createdBy, updatedBy and the model’s fields by name');

export function vectorRoutes(ctx: VectorsContext) {
  return async (app: App) => {
    app.post('/api/v1/data/:model/search', {
      config: { access: { permission: 'records:read' } },
      schema: {
        operationId: 'searchRecords',
        tags: ['records'],
        summary: 'Similarity search: top k records by cosine similarity (vector), full-text rank (keyword) or both fused (hybrid), with a records filter',
        params: modelParams,
        body: searchBodySchema,
        response: {
          200: z.object({
            data: z.array(recordSchema),
            meta: z.object({
              k: z.number(),
              mode: z.string(),
              count: z.number(),
              exact: z.boolean(),
              width: z.number().optional().describe('The HNSW search width the graph was walked with; absent for exact scans'),
            }),
          }),
        },
      },
      ...plainJsonSerializer,
      handler: async (request) => {
        const r = await searchRecords(ctx, orgActorOf(request), request.params.model, request.body);
        return {
          data: r.data,
          meta: { k: request.body.k, mode: request.body.mode, count: r.data.length, exact: r.exact, ...(r.width ? { width: r.width } : {}) },
        };
      },
    });
  };
}
