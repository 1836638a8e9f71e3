import { defineNode, ref } from '@infinity/node-sdk';
import { z } from 'zod';

/**
 * Records and actions of the flow's organization, through the same validation as the REST API.
 * Writes carry the node's idempotency key: each is applied once per execution, node and loop item
 * (recorded in the write's own transaction), so a step run again after a crash does not write twice.
 */

const model = ref('model', z.string().min(1).max(63)).describe('model name');
const recordId = z.string().min(1).max(64).describe('record id (usually an expression)');
const values = z.record(z.string().max(100), z.unknown()).describe('field values by name');

export const queryNode = defineNode({
  type: 'data.query',
  version: 1,
  title: 'Query records',
  description: 'Lists records of a model with the records filter language, a sort, a limit and an offset. Emits {items, count}.',
  category: 'data',
  params: z.strictObject({
    model,
    filter: z.record(z.string(), z.unknown()).optional().describe('e.g. { "age": { "gte": 30 } }'),
    sort: z.string().max(500).optional().describe('e.g. -createdAt,name'),
    limit: z.coerce.number().int().min(1).max(1000).default(50),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0).describe('records to skip (after the sort)'),
  }),
  outputs: ['main'],
  execute: async ({ params, ctx }) => {
    const items = await ctx.records.query(params.model, {
      ...(params.filter ? { filter: params.filter } : {}),
      ...(params.sort ? { sort: params.sort } : {}),
      limit: params.limit,
      ...(params.offset ? { offset: params.offset } : {}),
    });
    return { main: { items, count: items.length } };
  },
});

export const getNode = defineNode({
  type: 'data.get',
  version: 1,
  title: 'Get record',
  description: 'Reads one record by id; "notFound" when there is none.',
  category: 'data',
  params: z.strictObject({ model, id: recordId }),
  outputs: ['main', 'notFound'],
  execute: async ({ params, ctx }) => {
    try {
      return { main: await ctx.records.get(params.model, params.id) };
    } catch (err) {
      if ((err as { code?: string }).code === 'RECORD_NOT_FOUND') return { notFound: { model: params.model, id: params.id } };
      throw err;
    }
  },
});

export const createNode = defineNode({
  type: 'data.create',
  version: 1,
  title: 'Create record',
  description: 'Creates a record; values are validated like the REST API. Emits the record.',
  category: 'data',
  params: z.strictObject({ model, values }),
  outputs: ['main'],
  execute: async ({ params, ctx }) => ({ main: await ctx.records.create(params.model, params.values, { idempotencyKey: ctx.idempotencyKey }) }),
});

export const updateNode = defineNode({
  type: 'data.update',
  version: 1,
  title: 'Update record',
  description: 'Updates some fields of a record. Emits the record.',
  category: 'data',
  params: z.strictObject({ model, id: recordId, values }),
  outputs: ['main'],
  execute: async ({ params, ctx }) => ({ main: await ctx.records.update(params.model, params.id, params.values, { idempotencyKey: ctx.idempotencyKey }) }),
});

export const deleteNode = defineNode({
  type: 'data.delete',
  version: 1,
  title: 'Delete record',
  description: 'Deletes a record (relations cascade, set null or refuse as the model says). Emits {id}.',
  category: 'data',
  params: z.strictObject({ model, id: recordId }),
  outputs: ['main'],
  execute: async ({ params, ctx }) => {
    await ctx.records.delete(params.model, params.id, { idempotencyKey: ctx.idempotencyKey });
    return { main: { id: params.id } };
  },
});

export const actionNode = defineNode({
  type: 'data.action',
  version: 1,
  title: 'Run action',
  description: 'Runs a pre-configured multi-model action in one transaction. Emits its output.',
  category: 'data',
  params: z.strictObject({ actionId: ref('action', z.uuid()), params: z.record(z.string().max(100), z.unknown()).default({}) }),
  outputs: ['main'],
  execute: async ({ params, ctx }) => ({ main: await ctx.actions.run(params.actionId, params.params, { idempotencyKey: ctx.idempotencyKey }) }),
});

export const dataNodes = [queryNode, getNode, createNode, updateNode, deleteNode, actionNode];
