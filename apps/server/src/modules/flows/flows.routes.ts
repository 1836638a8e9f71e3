import { listMetaSchema } from '@infinity/contracts';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import {
  type App,
  cursorPageQuery,
  emptyBody,
  idParams,
  ifMatchOf,
  listCursor,
  listMeta,
  pageOfAll,
  uuidParam,
  wholeListQuery,
  withEtag,
} from '../../platform/http/index.js';
import { orgActorOf } from '../access/index.js';
import { flowErrors } from './flows.errors.js';
import * as flows from './flows.service.js';

const flowSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  nodes: z.array(z.unknown()),
  edges: z.array(z.unknown()),
  settings: z.unknown(),
  version: z.number(),
  active: z.boolean(),
  publish: z.unknown(),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export const executionSchema = z.object({
  id: z.string(),
  flowId: z.string(),
  flowVersion: z.number(),
  status: z.enum(['queued', 'running', 'waiting', 'succeeded', 'failed', 'canceled']),
  trigger: z.string(),
  input: z.unknown(),
  output: z.unknown(),
  error: z.unknown(),
  parentId: z.string().nullable(),
  steps: z.number(),
  claims: z.number(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  createdAt: z.string(),
});
const versionParams = z.strictObject({ id: uuidParam, n: z.coerce.number().int().min(1) });
// Keyset cursors of the three lists (meta.nextCursor; ?cursor= for the next page).
const flowCursor = listCursor('flows', ['timestamptz', 'uuid']);
const versionCursor = listCursor('flow-versions', ['bigint']);
const executionCursor = listCursor('executions', ['timestamptz', 'uuid']);
const waitQuery = z.strictObject({
  wait: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => v === 'true'),
});

/** A flow as the answer, with its version as the ETag. */
const versioned = (reply: FastifyReply, data: flows.FlowDto) => withEtag(reply, data.version).send({ data });

export function flowRoutes(ctx: flows.FlowsContext) {
  return async (app: App) => {
    app.get('/api/v1/node-types', {
      config: { access: { permission: 'flows:read' } },
      schema: {
        operationId: 'listNodeTypes',
        tags: ['flows'],
        summary: 'Every node type with its inputs, output ports and parameter JSON Schema',
        querystring: wholeListQuery,
      },
      handler: async (request) => pageOfAll(ctx.registry.describe(), request.query),
    });
    app.get('/api/v1/flows', {
      config: { access: { permission: 'flows:read' } },
      schema: {
        operationId: 'listFlows',
        tags: ['flows'],
        summary: 'Flows, newest first (page by cursor or offset)',
        querystring: cursorPageQuery,
        response: { 200: z.object({ data: z.array(flowSchema), meta: listMetaSchema }) },
      },
      handler: async (request) => {
        const q = request.query;
        const { items, total, next } = await flows.listFlows(ctx, orgActorOf(request), { limit: q.limit, offset: q.offset, after: flowCursor.decode(q) });
        return { data: items, meta: listMeta(total, q.limit, q.offset, next && flowCursor.encode(next)) };
      },
    });
    app.post('/api/v1/flows', {
      config: { access: { permission: 'flows:write' } },
      schema: {
        operationId: 'createFlow',
        tags: ['flows'],
        summary:
          'Create a flow (validated; version 1), or start from a template with ?template=blank|webhook-to-record|scheduled-http-to-record (the body is then optional: name, description, settings override the template’s; a template creates the models it writes to when missing); active: true starts its triggers at once',
        querystring: z.strictObject({ template: z.string().max(100).optional() }),
        body: flows.flowCreateSchema.nullish(),
        response: { 201: z.object({ data: flowSchema }) },
      },
      handler: async (request, reply) => {
        const data = await flows.createFlow(ctx, orgActorOf(request), request.body ?? null, request.query.template, request.ip);
        return withEtag(reply, data.version).status(201).send({ data });
      },
    });
    app.get('/api/v1/flows/:id', {
      config: { access: { permission: 'flows:read' } },
      schema: {
        operationId: 'getFlow',
        tags: ['flows'],
        summary: 'One flow; its ETag is its version (send it back as If-Match when saving)',
        params: idParams,
        response: { 200: z.object({ data: flowSchema }) },
      },
      handler: async (request, reply) => versioned(reply, await flows.getFlow(ctx, orgActorOf(request), request.params.id)),
    });
    app.put('/api/v1/flows/:id', {
      config: { access: { permission: 'flows:write' } },
      schema: {
        operationId: 'replaceFlow',
        tags: ['flows'],
        summary: 'Replace the flow graph (a new version); a stale If-Match answers 412',
        params: idParams,
        body: flows.flowWriteSchema,
        response: { 200: z.object({ data: flowSchema }) },
      },
      handler: async (request, reply) =>
        versioned(reply, await flows.saveFlow(ctx, orgActorOf(request), request.params.id, request.body, request.ip, ifMatchOf(request))),
    });
    app.patch('/api/v1/flows/:id', {
      config: { access: { permission: 'flows:write' } },
      schema: {
        operationId: 'updateFlow',
        tags: ['flows'],
        summary: 'Change parts of a flow (graph changes make a version); {active} starts or stops its triggers; a stale If-Match answers 412',
        params: idParams,
        body: flows.flowPatchSchema,
        response: { 200: z.object({ data: flowSchema }) },
      },
      handler: async (request, reply) =>
        versioned(reply, await flows.saveFlow(ctx, orgActorOf(request), request.params.id, request.body, request.ip, ifMatchOf(request))),
    });
    app.delete('/api/v1/flows/:id', {
      config: { access: { permission: 'flows:write' } },
      schema: { operationId: 'deleteFlow', tags: ['flows'], summary: 'Delete a flow; a stale If-Match answers 412', params: idParams },
      handler: async (request, reply) => {
        await flows.deleteFlow(ctx, orgActorOf(request), request.params.id, request.ip, ifMatchOf(request));
        return reply.status(204).send();
      },
    });
    app.get('/api/v1/flows/:id/versions', {
      config: { access: { permission: 'flows:read' } },
      schema: {
        operationId: 'listFlowVersions',
        tags: ['flows'],
        summary: 'Versions of a flow, newest first (page by cursor or offset)',
        params: idParams,
        querystring: cursorPageQuery,
      },
      handler: async (request) => {
        const q = request.query;
        const { items, total, next } = await flows.listVersions(ctx, orgActorOf(request), request.params.id, {
          limit: q.limit,
          offset: q.offset,
          after: versionCursor.decode(q),
        });
        return { data: items, meta: listMeta(total, q.limit, q.offset, next && versionCursor.encode(next)) };
      },
    });
    app.get('/api/v1/flows/:id/versions/:n', {
      config: { access: { permission: 'flows:read' } },
      schema: { operationId: 'getFlowVersion', tags: ['flows'], summary: 'One version, nodes and edges sorted by id (diff-friendly)', params: versionParams },
      handler: async (request) => ({ data: await flows.getVersion(ctx, orgActorOf(request), request.params.id, request.params.n) }),
    });
    app.post('/api/v1/flows/:id/versions/:n/restore', {
      config: { access: { permission: 'flows:write' } },
      schema: {
        operationId: 'restoreFlowVersion',
        tags: ['flows'],
        summary: 'Make an old version current again (as a new version)',
        params: versionParams,
        body: emptyBody,
        response: { 200: z.object({ data: flowSchema }) },
      },
      handler: async (request, reply) =>
        versioned(reply, await flows.restoreVersion(ctx, orgActorOf(request), request.params.id, request.params.n, request.ip)),
    });
    app.post('/api/v1/flows/:id/run', {
      config: { access: { permission: 'flows:run' } },
      schema: {
        operationId: 'runFlow',
        tags: ['flows'],
        summary: 'Run the flow with an input (manual trigger; pinned data is used). ?wait=true answers with the finished execution',
        params: idParams,
        querystring: waitQuery,
        body: z.strictObject({ input: z.json().optional() }).nullish(),
        response: { 200: z.object({ data: executionSchema }), 202: z.object({ data: executionSchema }) },
      },
      handler: async (request, reply) => {
        const row = await flows.runFlowAsActor(ctx, orgActorOf(request), request.params.id, request.body?.input ?? null, request.query.wait);
        if (!row) throw flowErrors.EXECUTION_NOT_FOUND();
        return reply.status(request.query.wait ? 200 : 202).send({ data: flows.toExecution(row) });
      },
    });
    app.post('/api/v1/flows/:id/publish', {
      config: { access: { permission: 'flows:publish' } },
      schema: {
        operationId: 'publishFlow',
        tags: ['flows'],
        summary: 'Publish at POST /api/v1/run/{slug} (public: owners only)',
        params: idParams,
        body: flows.publishSchema,
        response: { 200: z.object({ data: flowSchema }) },
      },
      handler: async (request, reply) => versioned(reply, await flows.publishFlow(ctx, orgActorOf(request), request.params.id, request.body, request.ip)),
    });
    app.post('/api/v1/flows/:id/unpublish', {
      config: { access: { permission: 'flows:publish' } },
      schema: {
        operationId: 'unpublishFlow',
        summary: 'Stop publishing a flow at /api/v1/run/{slug}',
        tags: ['flows'],
        params: idParams,
        body: emptyBody,
        response: { 200: z.object({ data: flowSchema }) },
      },
      handler: async (request, reply) => versioned(reply, await flows.unpublishFlow(ctx, orgActorOf(request), request.params.id, request.ip)),
    });

    // ── executions ──
    app.get('/api/v1/executions', {
      config: { access: { permission: 'executions:read' } },
      schema: {
        operationId: 'listExecutions',
        tags: ['executions'],
        summary: 'Executions, newest first (page by cursor or offset)',
        querystring: cursorPageQuery.extend({
          flowId: uuidParam.optional(),
          status: z.enum(['queued', 'running', 'waiting', 'succeeded', 'failed', 'canceled']).optional(),
        }),
        response: { 200: z.object({ data: z.array(executionSchema), meta: listMetaSchema }) },
      },
      handler: async (request) => {
        const q = request.query;
        const after = executionCursor.decode(q);
        const { items, total, next } = await flows.listExecutions(ctx, orgActorOf(request), {
          limit: q.limit,
          offset: q.offset,
          after,
          ...(q.flowId ? { flowId: q.flowId } : {}),
          ...(q.status ? { status: q.status } : {}),
        });
        return { data: items, meta: listMeta(total, q.limit, q.offset, next && executionCursor.encode(next)) };
      },
    });
    app.get('/api/v1/executions/:id', {
      config: { access: { permission: 'executions:read' } },
      schema: {
        operationId: 'getExecution',
        tags: ['executions'],
        summary: 'The whole trace: every node’s input, output ports, error, attempts, timings and log lines',
        params: idParams,
      },
      handler: async (request) => ({ data: await flows.getExecution(ctx, orgActorOf(request), request.params.id) }),
    });
    app.post('/api/v1/executions/:id/cancel', {
      config: { access: { permission: 'executions:manage' } },
      schema: {
        operationId: 'cancelExecution',
        summary: 'Cancel a running or waiting execution',
        tags: ['executions'],
        params: idParams,
        body: emptyBody,
        response: { 200: z.object({ data: executionSchema }) },
      },
      handler: async (request) => ({ data: await flows.cancelExecution(ctx, orgActorOf(request), request.params.id) }),
    });
    app.post('/api/v1/executions/:id/rerun', {
      config: { access: { permission: 'executions:manage' } },
      schema: {
        operationId: 'rerunExecution',
        tags: ['executions'],
        summary: 'Run again, from the start or from a node (upstream outputs are reused). ?wait=true answers with the finished execution',
        params: idParams,
        querystring: waitQuery,
        body: z.strictObject({ fromNodeId: z.string().min(1).max(64).optional() }).nullish(),
        response: { 200: z.object({ data: executionSchema }), 202: z.object({ data: executionSchema }) },
      },
      handler: async (request, reply) => {
        const data = await flows.rerunExecution(ctx, orgActorOf(request), request.params.id, request.body?.fromNodeId, request.query.wait);
        return reply.status(request.query.wait ? 200 : 202).send({ data });
      },
    });
  };
}
