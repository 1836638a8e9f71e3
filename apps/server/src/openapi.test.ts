/**
 * The OpenAPI document names every operation: each documented route declares a stable camelCase
 * `operationId` and a `summary` on its definition, the ids are unique (an organization's models
 * included, whatever they are called), and every `$ref` resolves. Redocly CLI and
 * openapi-typescript run over both documents in test/e2e/openapi-tools.e2e.test.ts.
 * A new route fails here until it names its operation.
 */
import { expect, it } from 'vitest';
import { signUp } from './platform/testing/actors.js';
import { describeEachDb, type Harness } from './platform/testing/harness.js';

type Doc = {
  paths: Record<string, Record<string, { operationId?: string; summary?: string }>>;
  webhooks?: Record<string, Record<string, { operationId?: string; summary?: string }>>;
  components: { schemas: Record<string, unknown> };
};
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const CAMEL = /^[a-z][a-zA-Z0-9]*$/;

function operations(doc: Doc) {
  return [...Object.entries(doc.paths), ...Object.entries(doc.webhooks ?? {})].flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((m) => ({ at: `${m.toUpperCase()} ${path}`, ...item[m]! })),
  );
}

/** `$ref`s that point nowhere in the document. */
function danglingRefs(doc: Doc): string[] {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!v || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v)) {
      if (k === '$ref' && typeof x === 'string') {
        const target = x.startsWith('#/components/schemas/') ? doc.components.schemas[x.slice('#/components/schemas/'.length)] : undefined;
        if (target === undefined) out.push(x);
      } else walk(x);
    }
  };
  walk(doc);
  return [...new Set(out)];
}

function expectNamedOperations(doc: Doc) {
  const ops = operations(doc);
  expect(ops.filter((o) => !o.operationId || !CAMEL.test(o.operationId)).map((o) => `${o.at}: ${o.operationId}`)).toEqual([]);
  expect(ops.filter((o) => !o.summary).map((o) => o.at)).toEqual([]);
  const seen = new Map<string, string>();
  const repeated = ops
    .filter((o) => seen.has(o.operationId!) || !seen.set(o.operationId!, o.at))
    .map((o) => `${o.operationId} (${seen.get(o.operationId!)} and ${o.at})`);
  expect(repeated).toEqual([]);
  expect(danglingRefs(doc)).toEqual([]);
}

const model = async (h: Harness, token: string, name: string, fields: unknown[] = [{ name: 'title', type: 'string' }]) => {
  const res = await h.request({ method: 'POST', url: '/api/v1/models', token, body: { name, fields } });
  expect(res.statusCode, res.body).toBe(201);
};

describeEachDb('OpenAPI operations', (h) => {
  it('every documented route declares its operationId and summary on its definition', () => {
    // Routes served by plugins (/docs, the UI's files, CORS preflight) are not operations of the API.
    const documented = h().built.app.routeTable.filter((r) => !r.hidden && !r.url.startsWith('/docs') && r.method !== 'OPTIONS' && r.url !== '/*');
    const unnamed = documented
      .filter((r) => !r.operationId || !r.summary)
      .map((r) => `${r.method} ${r.url} lacks ${r.operationId ? 'a summary' : 'an operationId'}`);
    expect(unnamed, 'set schema.operationId (camelCase, what the route does) and schema.summary on these routes').toEqual([]);
    expect(documented.filter((r) => !CAMEL.test(r.operationId!)).map((r) => `${r.method} ${r.url}: ${r.operationId}`)).toEqual([]);
  });

  it('the system document names every operation once and every $ref resolves', async () => {
    const doc = (await h().request({ method: 'GET', url: '/api/v1/openapi.json' })).json<Doc>();
    expectNamedOperations(doc);
    expect(doc.paths['/api/v1/hooks/{flowId}/{path}']?.post?.operationId).toBe('callWebhookPathPost');
    expect(doc.components.schemas.JsonValue).toBeDefined();
  });

  it('models named like system operations or schemas get distinct names, kept when more models come', async () => {
    const u = await signUp(h());
    await model(h(), u.token, 'a_1');
    await model(h(), u.token, 'flows', [
      { name: 'title', type: 'string', required: true },
      { name: 'payload', type: 'json', default: { a: [1, 'x', null] } },
    ]);
    const before = (await h().request({ method: 'GET', url: '/api/v1/openapi.json', token: u.token })).json<Doc>();
    for (const name of ['records', 'error', 'json_value', 'a1']) await model(h(), u.token, name);
    const doc = (await h().request({ method: 'GET', url: '/api/v1/openapi.json', token: u.token })).json<Doc>();
    expectNamedOperations(doc);
    const ids = (path: string) => Object.values(doc.paths[path] ?? {}).map((op) => op.operationId);
    expect(ids('/api/v1/flows')).toEqual(['listFlows', 'createFlow']);
    expect(ids('/api/v1/data/flows')).toEqual(['listFlowsModel', 'createFlowsModel']);
    expect(ids('/api/v1/data/{model}')).toEqual(['listRecords', 'createRecord']);
    expect(ids('/api/v1/data/records')).toEqual(['listRecordsModel', 'createRecordsModel']);
    expect(ids('/api/v1/data/a_1')).toEqual(['listA1', 'createA1']);
    expect(ids('/api/v1/data/a1')).toEqual(['listA1Model', 'createA1Model']);
    expect(ids('/api/v1/data/json_value')).toEqual(['listJsonValueModel', 'createJsonValueModel']);
    // The error format keeps its name; the model called error gets another.
    expect(doc.components.schemas.Error).toMatchObject({ required: ['error'] });
    expect(doc.components.schemas.ErrorModel).toMatchObject({ properties: { title: { type: ['string', 'null'] } } });
    expect(before.paths['/api/v1/data/a_1']).toEqual(doc.paths['/api/v1/data/a_1']);
  });
});
