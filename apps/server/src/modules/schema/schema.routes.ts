import { type Model, listMetaSchema } from '@infinity/contracts';
import { z } from 'zod';
import { type App, ifMatchOf, pageOfAll, wholeListQuery, withEtag } from '../../platform/http/index.js';
import { orgActorOf } from '../access/index.js';
import { fieldSchema, modelChangeSchema, modelCreateSchema } from './fields.js';
import * as schema from './schema.service.js';

const inverseSchema = z.object({ name: z.string(), model: z.string(), field: z.string(), kind: z.enum(['one-to-many', 'one-to-one']) });
export const modelSchema = z.object({
  id: z.string(),
  name: z.string(),
  label: z.string(),
  description: z.string(),
  fields: z.array(fieldSchema),
  inverse: z.array(inverseSchema).describe('Read-only inverse sides of relations that point at this model'),
  embedding: z
    .object({
      enabled: z.boolean(),
      sourceFields: z.array(z.string()),
      provider: z.enum(['openai', 'openai-compatible', 'local']),
      model: z.string(),
      dimensions: z.number(),
      secretId: z.string().nullable(),
    })
    .nullable()
    .describe('Vector embeddings of the source fields (GET /api/v1/models/{name}/embeddings shows their progress)'),
  version: z.number(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
// What GET /models answers is the contracts' Model (checked here, at compile time).
export type ModelDto = z.infer<typeof modelSchema>;
const _modelIsContract = (m: ModelDto): Model => m;
void _modelIsContract;
const strip = ({ orgId: _o, ...m }: { orgId: string } & Record<string, unknown>) => m;
const nameParams = z.strictObject({ name: z.string().min(1).max(63) });

export function schemaRoutes(ctx: schema.SchemaContext) {
  return async (app: App) => {
    app.get('/api/v1/models', {
      config: { access: { permission: 'models:read' } },
      schema: {
        operationId: 'listModels',
        tags: ['models'],
        summary: 'Models of this organization',
        querystring: wholeListQuery,
        response: { 200: z.object({ data: z.array(modelSchema), meta: listMetaSchema }) },
      },
      handler: async (request) => pageOfAll((await schema.listModelDefs(ctx, orgActorOf(request))).map(strip) as z.infer<typeof modelSchema>[], request.query),
    });
    app.post('/api/v1/models', {
      config: { access: { permission: 'models:write' } },
      schema: {
        operationId: 'createModel',
        tags: ['models'],
        summary: 'Create a model: a real table in this organization’s schema',
        body: modelCreateSchema,
        response: { 201: z.object({ data: modelSchema }) },
      },
      handler: async (request, reply) => {
        const actor = orgActorOf(request);
        const m = await schema.getModel(ctx, actor, (await schema.createModel(ctx, actor, request.body, request.ip)).name);
        return withEtag(reply, m.version)
          .status(201)
          .send({ data: strip(m) as z.infer<typeof modelSchema> });
      },
    });
    app.get('/api/v1/models/:name', {
      config: { access: { permission: 'models:read' } },
      schema: {
        operationId: 'getModel',
        tags: ['models'],
        summary: 'One model; its ETag is its schema version (send it back as If-Match when changing it)',
        params: nameParams,
        response: { 200: z.object({ data: modelSchema }) },
      },
      handler: async (request, reply) => {
        const m = await schema.getModel(ctx, orgActorOf(request), request.params.name);
        return withEtag(reply, m.version).send({ data: strip(m) as z.infer<typeof modelSchema> });
      },
    });
    app.patch('/api/v1/models/:name', {
      config: { access: { permission: 'models:write' } },
      schema: {
        operationId: 'updateModel',
        tags: ['models'],
        summary:
          'Change a model in one transaction: add, rename, update, drop fields; rename the model; enable, change or disable embeddings. A stale If-Match answers 412',
        params: nameParams,
        body: modelChangeSchema,
        response: { 200: z.object({ data: modelSchema }) },
      },
      handler: async (request, reply) => {
        const actor = orgActorOf(request);
        const m = await schema.getModel(
          ctx,
          actor,
          (await schema.changeModel(ctx, actor, request.params.name, request.body, request.ip, ifMatchOf(request))).name,
        );
        return withEtag(reply, m.version).send({ data: strip(m) as z.infer<typeof modelSchema> });
      },
    });
    app.delete('/api/v1/models/:name', {
      config: { access: { permission: 'models:write' } },
      schema: { operationId: 'deleteModel', tags: ['models'], summary: 'Drop a model and all its records; a stale If-Match answers 412', params: nameParams },
      handler: async (request, reply) => {
        await schema.deleteModel(ctx, orgActorOf(request), request.params.name, request.ip, ifMatchOf(request));
        return reply.status(204).send();
      },
    });
    app.get('/api/v1/models/:name/versions', {
      config: { access: { permission: 'models:read' } },
      schema: {
        operationId: 'listModelVersions',
        tags: ['models'],
        summary: 'Schema versions, newest first: each change and the fields after it',
        params: nameParams,
        querystring: wholeListQuery,
        response: {
          200: z.object({
            data: z.array(
              z.object({
                version: z.number(),
                name: z.string(),
                change: z.unknown(),
                fields: z.array(fieldSchema),
                actor: z.string().nullable(),
                createdAt: z.string(),
              }),
            ),
            meta: listMetaSchema,
          }),
        },
      },
      handler: async (request) => pageOfAll(await schema.modelVersions(ctx, orgActorOf(request), request.params.name), request.query),
    });
    app.get('/api/v1/schema/diagram', {
      config: { access: { permission: 'models:read' } },
      schema: {
        operationId: 'getSchemaDiagram',
        tags: ['models'],
        summary: 'Models and relations as nodes and edges (ER view)',
        response: {
          200: z.object({
            data: z.object({
              nodes: z.array(
                z.object({
                  id: z.string(),
                  label: z.string(),
                  fields: z.array(z.object({ name: z.string(), type: z.string(), required: z.boolean(), unique: z.boolean() })),
                }),
              ),
              edges: z.array(
                z.object({
                  id: z.string(),
                  source: z.string(),
                  target: z.string(),
                  field: z.string(),
                  kind: z.string(),
                  onDelete: z.string(),
                  inverse: z.string().nullable(),
                }),
              ),
            }),
          }),
        },
      },
      handler: async (request) => ({ data: await schema.schemaDiagram(ctx, orgActorOf(request)) }),
    });
  };
}
