import { expect, it } from 'vitest';
import { createApiKey, signUp } from '../../platform/testing/actors.js';
import { type Harness, describeEachDb } from '../../platform/testing/harness.js';

/**
 * Every path that writes records goes through the one store (records.store.ts): the REST API, bulk
 * writes, imports, flow data nodes and actions. The same bad value gets the same answer on each.
 */
type Issue = { field: string; code: string; message: string };

async function setUp(h: Harness) {
  const u = await signUp(h);
  const { key } = await createApiKey(h, u.token, 'editor');
  const req = (method: string, url: string, body?: unknown) => h.request({ method, url, apiKey: key, body });
  const model = await req('POST', '/api/v1/models', {
    name: 'items',
    fields: [
      { name: 'name', type: 'string' },
      { name: 'qty', type: 'integer', min: 1 },
    ],
  });
  expect(model.statusCode, model.body).toBe(201);
  const count = async () => (await req('GET', '/api/v1/data/items?count=exact')).json().meta.total as number;
  return { req, count };
}

type Setup = Awaited<ReturnType<typeof setUp>>;
const step = (id: string, type: string, params: Record<string, unknown>) => ({ id, type, name: id, position: { x: 0, y: 0 }, params });

/** Runs a one-node flow (manual trigger → node) and returns the node's error, if it failed. */
async function flowNode(t: Setup, type: string, params: Record<string, unknown>) {
  const flow = await t.req('POST', '/api/v1/flows', {
    name: `${type} ${Math.random()}`,
    nodes: [step('start', 'trigger.manual', {}), step('node', type, params)],
    edges: [{ id: 'e', source: 'start', sourceHandle: 'main', target: 'node' }],
  });
  expect(flow.statusCode, flow.body).toBe(201);
  const run = await t.req('POST', `/api/v1/flows/${flow.json().data.id as string}/run?wait=true`, { input: {} });
  expect(run.statusCode, run.body).toBe(200);
  const trace = (await t.req('GET', `/api/v1/executions/${run.json().data.id as string}`)).json().data;
  const node = trace.nodes.find((n: { nodeId: string }) => n.nodeId === 'node');
  return { execution: run.json().data, node };
}

/** Runs a one-step action and returns the failed run's error. */
async function actionStep(t: Setup, stepDef: Record<string, unknown>) {
  const action = await t.req('POST', '/api/v1/actions', { name: `a ${Math.random()}`, steps: [{ id: 's', ...stepDef }] });
  expect(action.statusCode, action.body).toBe(201);
  const run = await t.req('POST', `/api/v1/actions/${action.json().data.id as string}/run`, { params: {} });
  return (run.json().error?.details?.run ?? run.json().data) as { status: string; error: { code: string; message: string; details?: unknown } };
}

describeEachDb('records store: one write path', (h) => {
  it('gives the same validation problem for the same bad value on the API, bulk, import, a flow data node and an action', async () => {
    const t = await setUp(h());
    const bad = { name: 'x', qty: 'many' };
    const issue: Issue = { field: 'qty', code: 'invalid_type', message: 'must be an integer' };

    const api = await t.req('POST', '/api/v1/data/items', bad);
    expect(api.statusCode).toBe(422);
    expect(api.json().error).toMatchObject({ code: 'RECORD_INVALID', details: [issue] });

    const bulk = await t.req('POST', '/api/v1/data/items/bulk', { op: 'create', items: [{ name: 'ok', qty: 2 }, bad] });
    expect(bulk.statusCode).toBe(422);
    expect(bulk.json().error).toMatchObject({ code: 'BULK_INVALID', details: [{ index: 1, ...issue }] });

    const imported = await t.req('POST', '/api/v1/data/items/import', [bad]);
    expect(imported.statusCode).toBe(422);
    expect(imported.json().error).toMatchObject({ code: 'IMPORT_REJECTED', details: { rejected: [{ row: 0, errors: [issue] }] } });

    const flow = await flowNode(t, 'data.create', { model: 'items', values: bad });
    expect(flow.execution.status).toBe('failed');
    expect(flow.node.error).toMatchObject({ code: 'RECORD_INVALID', details: [issue] });

    const action = await actionStep(t, { op: 'create', model: 'items', values: bad });
    expect(action).toMatchObject({ status: 'failed', error: { code: 'RECORD_INVALID', details: [issue] } });

    // A value under the field's minimum: the same on every path too.
    const low: Issue = { field: 'qty', code: 'too_small', message: 'must be ≥ 1' };
    expect((await t.req('POST', '/api/v1/data/items', { qty: 0 })).json().error.details).toEqual([low]);
    expect((await t.req('POST', '/api/v1/data/items/bulk', { op: 'create', items: [{ qty: 0 }] })).json().error.details).toEqual([{ index: 0, ...low }]);
    expect((await flowNode(t, 'data.create', { model: 'items', values: { qty: 0 } })).node.error?.details).toEqual([low]);
    expect(await t.count()).toBe(0);
  });

  it('tells every write the same way: the typed record.created event from the API, bulk, import, a flow and an action', async () => {
    const t = await setUp(h());
    const seen: { name: unknown; actor: string | undefined }[] = [];
    const off = h().built.events.subscribe('record.created', (e) => void seen.push({ name: e.after.name, actor: e.actor?.type }));
    try {
      expect((await t.req('POST', '/api/v1/data/items', { name: 'api' })).statusCode).toBe(201);
      expect((await t.req('POST', '/api/v1/data/items/bulk', { op: 'create', items: [{ name: 'bulk' }] })).statusCode).toBe(200);
      expect((await t.req('POST', '/api/v1/data/items/import', [{ name: 'import' }])).statusCode).toBe(200);
      expect((await flowNode(t, 'data.create', { model: 'items', values: { name: 'flow' } })).execution.status).toBe('succeeded');
      expect((await actionStep(t, { op: 'create', model: 'items', values: { name: 'action' } })).status).toBe('succeeded');
    } finally {
      off();
    }
    expect(seen).toEqual([
      { name: 'api', actor: 'apiKey' },
      { name: 'bulk', actor: 'apiKey' },
      { name: 'import', actor: 'apiKey' },
      { name: 'flow', actor: 'flow' },
      { name: 'action', actor: 'apiKey' },
    ]);
  });

  // Regression: bulk turned an item that is not an object into {} and created an empty record
  // (a single create refuses it; an import named a made-up field "__invalid__").
  it('refuses a bulk item that is not an object instead of creating an empty record, as an import row does', async () => {
    const t = await setUp(h());
    const notAnObject: Issue = { field: '', code: 'invalid_type', message: 'must be an object of field values' };
    const r = await t.req('POST', '/api/v1/data/items/bulk', { op: 'create', items: [{ name: 'fine' }, 5, null, ['x']] });
    expect(r.statusCode, r.body).toBe(422);
    expect(r.json().error).toMatchObject({
      code: 'BULK_INVALID',
      details: [
        { index: 1, ...notAnObject },
        { index: 2, ...notAnObject },
        { index: 3, ...notAnObject },
      ],
    });
    expect(await t.count()).toBe(0);
    const imported = await t.req('POST', '/api/v1/data/items/import?onError=skip-invalid', [{ name: 'fine' }, 5]);
    expect(imported.statusCode, imported.body).toBe(200);
    expect(imported.json().data).toMatchObject({ inserted: 1, rejected: [{ row: 1, errors: [notAnObject] }] });
    expect(await t.count()).toBe(1);
  });

  // Regression: flows and actions sent an id that is no UUID to the database, whose cast error
  // came back as a retried NODE_FAILED (flows) or a 500 (actions); data.get never took "notFound".
  it('answers "not found" for a record id that is no UUID on the flow and action paths, as the API refuses it', async () => {
    const t = await setUp(h());
    expect((await t.req('PATCH', '/api/v1/data/items/not-a-uuid', { qty: 2 })).statusCode).toBe(400);

    const get = await flowNode(t, 'data.get', { model: 'items', id: 'not-a-uuid' });
    expect(get.execution).toMatchObject({ status: 'succeeded', output: { model: 'items', id: 'not-a-uuid' } });
    for (const [type, params] of [
      ['data.update', { model: 'items', id: 'not-a-uuid', values: { qty: 2 } }],
      ['data.delete', { model: 'items', id: 'not-a-uuid' }],
    ] as const) {
      const r = await flowNode(t, type, params);
      expect(r.node.error, type).toMatchObject({ code: 'RECORD_NOT_FOUND' });
    }
    for (const op of ['update', 'delete']) {
      const run = await actionStep(t, { op, model: 'items', recordId: 'not-a-uuid', ...(op === 'update' ? { values: { qty: 2 } } : {}) });
      expect(run, op).toMatchObject({ status: 'failed', error: { code: 'RECORD_NOT_FOUND' } });
    }
  });
});
