import multipart from '@fastify/multipart';
import { listMetaSchema } from '@infinity/contracts';
import { z } from 'zod';
import { type App, ifMatchOf, listMeta, plainJsonSerializer, withEtag } from '../../platform/http/index.js';
import { can, isOrgActor, orgActorOf } from '../access/index.js';
import { modelPaths } from './openapi.js';
import { LIST_QUERY_PARAMETERS, listQuerystring, parseListQuery } from './list-query.js';
import * as records from './records.service.js';
import * as store from './records.store.js';
import { bulk } from './records.bulk.js';
import { deleteImpact, recordDeleteImpact } from './delete-impact.js';
import { exportRecords, importRecords } from './exchange.js';
import { recordErrors } from './records.errors.js';

const recordSchema = z.record(z.string(), z.unknown()).describe('id, createdAt, updatedAt, createdBy, updatedBy and the model’s fields by name');
// Record bodies are built field by field from the model definition (toRecord).
const plainJson = plainJsonSerializer;
const modelParams = z.strictObject({ model: z.string().min(1).max(63) });
const recordParams = z.strictObject({ model: z.string().min(1).max(63), id: z.uuid({ message: 'must be a record id (UUID)' }) });
const body = z.record(z.string().max(100), z.unknown()).describe('Field values by name; unknown fields are refused');
const getQuery = z.strictObject({ expand: z.string().max(500).optional(), fields: z.string().max(2000).optional() });
const csv = (s: string | undefined) =>
  s
    ? s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
    : undefined;

const exportQuery = listQuerystring.meta({
  properties: { ...LIST_QUERY_PARAMETERS, format: { type: 'string', enum: ['csv', 'json', 'xml'], default: 'json' } },
});
const importQuery = z.strictObject({
  format: z.enum(['csv', 'json']).optional().describe('default: from Content-Type'),
  mode: z.enum(['insert', 'upsert']).default('insert'),
  onError: z.enum(['all-or-nothing', 'skip-invalid']).default('all-or-nothing'),
  key: z.string().max(63).default('id').describe('upsert: id or a unique field'),
});
const reportSchema = z.object({
  total: z.number(),
  inserted: z.number(),
  updated: z.number(),
  rejected: z.array(z.object({ row: z.number(), errors: z.array(z.object({ field: z.string(), code: z.string(), message: z.string() })) })),
});

export function recordRoutes(ctx: store.RecordsContext, opts: { importLimit: number }) {
  return async (app: App) => {
    // CSV bodies and multipart uploads, for import only (this plugin's routes); everything else stays JSON-only.
    app.addContentTypeParser(['text/csv', 'application/csv'], { parseAs: 'string', bodyLimit: opts.importLimit }, (_req, body, done) => done(null, body));
    await app.register(multipart, { limits: { fileSize: opts.importLimit, files: 1, fields: 10, parts: 12 } });

    app.get('/api/v1/openapi.json', {
      config: { access: { public: true, identify: true } },
      schema: { hide: true },
      handler: async (request) => {
        const base = app.swagger() as unknown as { paths?: Record<string, unknown>; components?: { schemas?: Record<string, unknown> } };
        const actor = request.actor;
        if (!actor || !isOrgActor(actor) || !can(actor.role, 'models:read')) return base;
        const taken = {
          operationIds: new Set(
            Object.values(base.paths ?? {}).flatMap((item) =>
              Object.values(item as Record<string, { operationId?: string }>).map((op) => op.operationId ?? ''),
            ),
          ),
          schemas: new Set(Object.keys(base.components?.schemas ?? {})),
        };
        const own = modelPaths([...(await ctx.cache.get(actor.orgId)).byName.values()], taken);
        return {
          ...base,
          paths: { ...base.paths, ...own.paths },
          components: { ...base.components, schemas: { ...base.components?.schemas, ...own.schemas } },
        };
      },
    });

    app.get('/api/v1/data/:model/export', {
      config: { access: { permission: 'records:read' } },
      schema: {
        operationId: 'exportRecords',
        tags: ['records'],
        summary: 'Export records as CSV, JSON or XML (streamed; honours filter, sort and fields)',
        params: modelParams,
        querystring: exportQuery,
      },
      handler: async (request, reply) => {
        const actor = orgActorOf(request);
        const { model } = await store.requireModel(ctx, actor, request.params.model);
        const { format: f, ...rest } = request.query;
        const format = f ?? 'json';
        if (format !== 'csv' && format !== 'json' && format !== 'xml') throw recordErrors.QUERY_INVALID('format must be csv, json or xml');
        const q = parseListQuery(model, rest);
        const out = await exportRecords(ctx, actor, request.params.model, q, format);
        return reply.type(out.contentType).header('content-disposition', `attachment; filename="${out.filename}"`).send(out.stream);
      },
    });
    app.post('/api/v1/data/:model/import', {
      config: { access: { permission: 'records:write' }, accepts: ['text/csv', 'application/json', 'multipart/form-data (a file upload)'] },
      bodyLimit: opts.importLimit,
      schema: {
        operationId: 'importRecords',
        tags: ['records'],
        summary: 'Import CSV (text/csv, header row of field names) or JSON (an array of objects), as the body or as a multipart file upload; returns a report',
        params: modelParams,
        querystring: importQuery,
        body: z.union([z.string(), z.array(z.unknown())]).nullish(),
        response: { 200: z.object({ data: reportSchema }) },
      },
      handler: async (request) => {
        const q = request.query;
        let body: unknown = request.body;
        let format = q.format ?? ((request.headers['content-type'] ?? '').includes('csv') ? 'csv' : 'json');
        if (request.isMultipart()) {
          // One file part (a form field named anything): CSV unless it says JSON by name or type.
          const file = await request.file();
          if (!file) throw recordErrors.QUERY_INVALID('The multipart upload holds no file.');
          const text = (await file.toBuffer()).toString('utf8');
          const json = file.mimetype.includes('json') || file.filename.toLowerCase().endsWith('.json');
          format = q.format ?? (json ? 'json' : 'csv');
          try {
            body = format === 'json' ? (JSON.parse(text) as unknown) : text;
          } catch {
            throw recordErrors.QUERY_INVALID(`${file.filename} is not valid JSON.`);
          }
        } else if (body === undefined || body === null) {
          throw recordErrors.QUERY_INVALID('Send the rows as text/csv, a JSON array, or a multipart file upload.');
        }
        return { data: await importRecords(ctx, orgActorOf(request), request.params.model, body, { format, mode: q.mode, onError: q.onError, key: q.key }) };
      },
    });

    app.get('/api/v1/data/:model', {
      config: { access: { permission: 'records:read' } },
      schema: {
        operationId: 'listRecords',
        tags: ['records'],
        summary: 'List records: filter, sort, page (offset or cursor), fields, expand, q, count',
        params: modelParams,
        querystring: listQuerystring,
        response: { 200: z.object({ data: z.array(recordSchema), meta: listMetaSchema }) },
      },
      ...plainJson,
      handler: async (request) => {
        const actor = orgActorOf(request);
        const { model } = await store.requireModel(ctx, actor, request.params.model);
        const q = parseListQuery(model, request.query);
        const r = await records.listRecords(ctx, actor, request.params.model, q);
        return { data: r.data, meta: listMeta(r.total, q.limit, q.offset, r.nextCursor) };
      },
    });
    app.post('/api/v1/data/:model', {
      config: { access: { permission: 'records:write' } },
      schema: {
        operationId: 'createRecord',
        tags: ['records'],
        summary: 'Create a record',
        params: modelParams,
        body,
        response: { 201: z.object({ data: recordSchema }) },
      },
      ...plainJson,
      handler: async (request, reply) => {
        const data = await store.createRecord(ctx, orgActorOf(request), request.params.model, request.body);
        return withEtag(reply, data.updatedAt as string)
          .status(201)
          .send({ data });
      },
    });
    app.get('/api/v1/data/:model/:id', {
      config: { access: { permission: 'records:read' } },
      schema: {
        operationId: 'getRecord',
        tags: ['records'],
        summary: 'One record; its ETag is its updatedAt (send it back as If-Match when changing it)',
        params: recordParams,
        querystring: getQuery,
        response: { 200: z.object({ data: recordSchema }) },
      },
      ...plainJson,
      handler: async (request, reply) => {
        const expand = csv(request.query.expand);
        const fields = csv(request.query.fields);
        const r = await records.getVersionedRecord(ctx, orgActorOf(request), request.params.model, request.params.id, {
          ...(expand ? { expand } : {}),
          ...(fields ? { fields } : {}),
        });
        return withEtag(reply, r.version).send({ data: r.record });
      },
    });
    app.put('/api/v1/data/:model/:id', {
      config: { access: { permission: 'records:write' } },
      schema: {
        operationId: 'replaceRecord',
        tags: ['records'],
        summary: 'Replace a record (absent fields return to their default or null); a stale If-Match answers 412',
        params: recordParams,
        body,
        response: { 200: z.object({ data: recordSchema }) },
      },
      ...plainJson,
      handler: async (request, reply) => {
        const data = await store.updateRecord(ctx, orgActorOf(request), request.params.model, request.params.id, request.body, {
          replace: true,
          expected: ifMatchOf(request),
        });
        return withEtag(reply, data.updatedAt as string).send({ data });
      },
    });
    app.patch('/api/v1/data/:model/:id', {
      config: { access: { permission: 'records:write' } },
      schema: {
        operationId: 'updateRecord',
        tags: ['records'],
        summary: 'Update some fields of a record; a stale If-Match answers 412',
        params: recordParams,
        body,
        response: { 200: z.object({ data: recordSchema }) },
      },
      ...plainJson,
      handler: async (request, reply) => {
        const data = await store.updateRecord(ctx, orgActorOf(request), request.params.model, request.params.id, request.body, {
          expected: ifMatchOf(request),
        });
        return withEtag(reply, data.updatedAt as string).send({ data });
      },
    });
    app.delete('/api/v1/data/:model/:id', {
      config: { access: { permission: 'records:write' } },
      schema: { operationId: 'deleteRecord', tags: ['records'], summary: 'Delete a record; a stale If-Match answers 412', params: recordParams },
      handler: async (request, reply) => {
        await store.deleteRecord(ctx, orgActorOf(request), request.params.model, request.params.id, { expected: ifMatchOf(request) });
        return reply.status(204).send();
      },
    });
    const impactSchema = z.object({
      model: z.string(),
      records: z.number().describe('asked records that exist and would be deleted'),
      missing: z.array(z.string()).describe('asked ids with no record'),
      removed: z
        .array(z.object({ model: z.string(), relation: z.string(), count: z.number() }))
        .describe('records a cascade deletes, per model and relation (cascades followed through)'),
      setNull: z.array(z.object({ model: z.string(), relation: z.string(), count: z.number() })).describe('records whose relation would be set to null'),
      restrict: z
        .array(z.object({ model: z.string(), relation: z.string(), count: z.number() }))
        .describe('records that restrict the delete: it would be refused'),
      blocked: z.boolean().describe('a restrict reference holds: the delete would be refused (409 RECORD_DELETE_RESTRICTED)'),
      truncated: z.boolean().describe('the walk stopped at 100,000 records: counts are lower bounds'),
    });
    app.get('/api/v1/data/:model/:id/delete-impact', {
      config: { access: { permission: 'records:read' } },
      schema: {
        operationId: 'getRecordDeleteImpact',
        tags: ['records'],
        summary: 'What deleting this record would do to other records (cascade, set null, restrict), without deleting anything',
        params: recordParams,
        response: { 200: z.object({ data: impactSchema }) },
      },
      handler: async (request) => ({ data: await recordDeleteImpact(ctx, orgActorOf(request), request.params.model, request.params.id) }),
    });
    app.post('/api/v1/data/:model/delete-impact', {
      config: { access: { permission: 'records:read' } },
      schema: {
        operationId: 'getBulkDeleteImpact',
        tags: ['records'],
        summary: 'What deleting these records (a bulk delete) would do to other records, without deleting anything',
        params: modelParams,
        body: z.strictObject({
          ids: z
            .array(z.uuid({ message: 'must be a record id (UUID)' }))
            .min(1)
            .max(10_000),
        }),
        response: { 200: z.object({ data: impactSchema }) },
      },
      handler: async (request) => ({ data: await deleteImpact(ctx, orgActorOf(request), request.params.model, request.body.ids) }),
    });
    app.post('/api/v1/data/:model/bulk', {
      config: { access: { permission: 'records:write' } },
      schema: {
        operationId: 'bulkWriteRecords',
        tags: ['records'],
        summary: 'Create, update, upsert or delete up to 10,000 records in one transaction (all or nothing; a refusal lists each refused item by index)',
        params: modelParams,
        body: z.strictObject({
          op: z.enum(['create', 'update', 'upsert', 'delete']),
          items: z.array(z.unknown()).min(1).max(10_000),
          key: z.string().max(63).optional().describe('upsert: id (default) or a unique field'),
        }),
        response: {
          200: z.object({
            data: z.object({
              op: z.string(),
              count: z.number(),
              created: z.number(),
              updated: z.number(),
              items: z
                .array(z.object({ index: z.number(), id: z.string(), created: z.boolean().optional() }))
                .describe('Per item, in request order: its index and the id of the record written (upsert: whether it was created)'),
            }),
          }),
        },
      },
      handler: async (request) => ({
        data: await bulk(ctx, orgActorOf(request), request.params.model, request.body.op, request.body.items, request.body.key),
      }),
    });
  };
}
