import { listMetaSchema } from '@infinity/contracts';
import { z } from 'zod';
import { type App, idParams, ifMatchOf, listMeta, pageQuery, withEtag } from '../../platform/http/index.js';
import { orgActorOf } from '../access/index.js';
import { actionErrors } from './actions.errors.js';
import * as actions from './actions.service.js';
import { actionCreateSchema, actionPatchSchema } from './definition.js';

const actionSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  params: z.array(z.unknown()),
  steps: z.array(z.unknown()),
  createdBy: z.string().nullable(),
  version: z.number(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const runSchema = z.object({
  id: z.string(),
  actionId: z.string(),
  status: z.enum(['queued', 'running', 'succeeded', 'failed']),
  input: z.unknown(),
  output: z.unknown(),
  error: z.unknown(),
  logs: z.array(z.object({ at: z.string(), step: z.string().nullable(), message: z.string() })),
  actor: z.string().nullable(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  createdAt: z.string(),
});

export function actionRoutes(ctx: actions.ActionsContext) {
  return async (app: App) => {
    app.get('/api/v1/actions', {
      config: { access: { permission: 'actions:read' } },
      schema: {
        operationId: 'listActions',
        summary: 'Actions of this organization',
        tags: ['actions'],
        querystring: pageQuery,
        response: { 200: z.object({ data: z.array(actionSchema), meta: listMetaSchema }) },
      },
      handler: async (request) => {
        const [list, total] = await Promise.all([
          actions.listActions(ctx, orgActorOf(request), request.query.limit, request.query.offset),
          actions.countActions(ctx, orgActorOf(request)),
        ]);
        return { data: list, meta: listMeta(total, request.query.limit, request.query.offset) };
      },
    });
    app.post('/api/v1/actions', {
      config: { access: { permission: 'actions:write' } },
      schema: {
        operationId: 'createAction',
        tags: ['actions'],
        summary: 'Define an action: parameters (some fixed) and steps over models',
        body: actionCreateSchema,
        response: { 201: z.object({ data: actionSchema }) },
      },
      handler: async (request, reply) => {
        const data = await actions.createAction(ctx, orgActorOf(request), request.body, request.ip);
        return withEtag(reply, data.version).status(201).send({ data });
      },
    });
    app.get('/api/v1/actions/:id', {
      config: { access: { permission: 'actions:read' } },
      schema: {
        operationId: 'getAction',
        tags: ['actions'],
        summary: 'One action; its ETag is its version (send it back as If-Match when changing it)',
        params: idParams,
        response: { 200: z.object({ data: actionSchema }) },
      },
      handler: async (request, reply) => {
        const data = await actions.getAction(ctx, orgActorOf(request), request.params.id);
        return withEtag(reply, data.version).send({ data });
      },
    });
    app.patch('/api/v1/actions/:id', {
      config: { access: { permission: 'actions:write' } },
      schema: {
        operationId: 'updateAction',
        tags: ['actions'],
        summary: 'Change an action; a stale If-Match answers 412',
        params: idParams,
        body: actionPatchSchema,
        response: { 200: z.object({ data: actionSchema }) },
      },
      handler: async (request, reply) => {
        const data = await actions.updateAction(ctx, orgActorOf(request), request.params.id, request.body, request.ip, ifMatchOf(request));
        return withEtag(reply, data.version).send({ data });
      },
    });
    app.delete('/api/v1/actions/:id', {
      config: { access: { permission: 'actions:write' } },
      schema: { operationId: 'deleteAction', tags: ['actions'], summary: 'Delete an action; a stale If-Match answers 412', params: idParams },
      handler: async (request, reply) => {
        await actions.deleteAction(ctx, orgActorOf(request), request.params.id, request.ip, ifMatchOf(request));
        return reply.status(204).send();
      },
    });
    app.post('/api/v1/actions/:id/run', {
      config: { access: { permission: 'actions:write' } },
      schema: {
        operationId: 'runAction',
        tags: ['actions'],
        summary: 'Run in one transaction with the remaining parameters; a failed run answers 422 with the run record',
        params: idParams,
        body: z.strictObject({ params: z.record(z.string().max(63), z.json()).default({}) }).nullish(),
        response: { 200: z.object({ data: runSchema }) },
      },
      handler: async (request) => {
        const run = await actions.runAction(ctx, orgActorOf(request), request.params.id, request.body?.params ?? {});
        if (run.status === 'failed') {
          const e = run.error as { step?: string; message?: string };
          throw actionErrors.ACTION_RUN_FAILED(`Step "${e.step ?? '?'}" failed: ${e.message ?? 'error'} Nothing was changed.`, { run });
        }
        return { data: run };
      },
    });
    app.get('/api/v1/actions/:id/runs', {
      config: { access: { permission: 'actions:read' } },
      schema: {
        operationId: 'listActionRuns',
        summary: 'Runs of an action, newest first',
        tags: ['actions'],
        params: idParams,
        querystring: pageQuery,
        response: { 200: z.object({ data: z.array(runSchema), meta: listMetaSchema }) },
      },
      handler: async (request) => {
        const list = await actions.listRuns(ctx, orgActorOf(request), request.params.id, request.query.limit, request.query.offset);
        return { data: list, meta: listMeta(await actions.countRuns(ctx, orgActorOf(request), request.params.id), request.query.limit, request.query.offset) };
      },
    });
    app.get('/api/v1/action-runs/:id', {
      config: { access: { permission: 'actions:read' } },
      schema: {
        operationId: 'getActionRun',
        summary: 'One action run: its parameters and result or error',
        tags: ['actions'],
        params: idParams,
        response: { 200: z.object({ data: runSchema }) },
      },
      handler: async (request) => ({ data: await actions.getRun(ctx, orgActorOf(request), request.params.id) }),
    });
  };
}
