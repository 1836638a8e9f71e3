/**
 * The Infinity node and its credential against a running Infinity (the built server as a process,
 * on each test database): every operation, every dynamic option, the credential test, errors with
 * Infinity's code, "continue on fail" and paired items.
 */
import type { IDataObject, INodeExecutionData, ResourceMapperField } from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../../apps/server/src/platform/testing/backends';
import { until } from '../../../test/e2e/server-process';
import { Infinity } from '../nodes/Infinity/Infinity.node';
import { type ContextOptions, type Credentials, executeContext, loadOptionsContext, testCredential } from './harness';
import { CONTACTS, type Infinity as Server, startInfinity } from './setup';

const node = new Infinity();
const rl = (value: string) => ({ __rl: true, mode: 'list', value });

for (const backend of testBackends()) {
  describe(`n8n node Infinity [${backend}]`, () => {
    let s: Server;
    let creds: Credentials;
    let actionId: string;
    let flowId: string;
    let failingFlowId: string;

    const run = async (parameters: ContextOptions['parameters'], items?: INodeExecutionData[], extra: Partial<ContextOptions> = {}) =>
      (await node.execute.call(executeContext({ credentials: creds, parameters, items, ...extra })))[0]!;
    const record = (operation: string, more: IDataObject = {}) => ({ resource: 'record', operation, model: rl('contacts'), ...more });
    const mapped = (value: IDataObject, matchingColumns: string[] = []) => ({ mappingMode: 'defineBelow', value, matchingColumns, schema: [] });
    const load = (parameters: IDataObject) => loadOptionsContext({ credentials: creds, parameters });

    beforeAll(async () => {
      s = await startInfinity(backend, 'n8n-node');
      creds = { baseUrl: `${s.url}/`, apiKey: s.editorKey };
      expect((await s.call('POST', '/models', CONTACTS)).status).toBe(201);
      const action = await s.call('POST', '/actions', {
        name: 'Promote',
        params: [
          { name: 'email', type: 'string', required: true, description: 'Whose level rises' },
          { name: 'years', type: 'integer' },
          { name: 'level', type: 'string', value: 'senior' },
        ],
        steps: [
          {
            id: 'up',
            op: 'upsert',
            model: 'contacts',
            key: 'email',
            values: { email: '{{params.email}}', age: '{{params.years}}', level: '{{params.level}}' },
          },
        ],
      });
      expect(action.status, JSON.stringify(action.json)).toBe(201);
      actionId = action.json.data.id;
      const flow = (name: string, expression: string) =>
        s.call('POST', '/flows', {
          name,
          nodes: [
            { id: 'start', type: 'trigger.manual', name: 'Start', position: { x: 0, y: 0 }, params: {} },
            { id: 'calc', type: 'core.transform', name: 'Calc', position: { x: 200, y: 0 }, params: { expression } },
          ],
          edges: [{ id: 'e1', source: 'start', sourceHandle: 'main', target: 'calc', targetHandle: 'main' }],
        });
      const ok = await flow('Double', '{ "doubled": $input.n * 2 }');
      expect(ok.status, JSON.stringify(ok.json)).toBe(201);
      flowId = ok.json.data.id;
      const bad = await flow('Broken', '$error("no luck")');
      expect(bad.status, JSON.stringify(bad.json)).toBe(201);
      failingFlowId = bad.json.data.id;
    });
    afterAll(async () => {
      await s?.server.stop();
    });

    it('credential test: GET /api/v1/me with the key as X-API-Key or Bearer; a wrong key is an error', async () => {
      expect(await testCredential(creds)).toEqual({ status: 'OK', message: 'Connection tested successfully' });
      expect((await testCredential({ ...creds, sendAs: 'bearer' })).status).toBe('OK');
      const wrong = await testCredential({ ...creds, apiKey: 'inf_not_a_key' });
      expect(wrong.status).toBe('Error');
    });

    it('dynamic options: models, actions and flows as list searches; fields; resource mapper columns typed per field', async () => {
      const models = await node.methods.listSearch.searchModels.call(load({}));
      expect(models.results).toContainEqual({ name: 'Contacts (contacts)', value: 'contacts' });
      expect((await node.methods.listSearch.searchModels.call(load({}), 'nothing-like-it')).results).toEqual([]);
      expect((await node.methods.listSearch.searchActions.call(load({}))).results).toContainEqual({ name: 'Promote', value: actionId });
      const flows = (await node.methods.listSearch.searchFlows.call(load({}), 'doub')).results;
      expect(flows).toEqual([{ name: 'Double', value: flowId }]);

      const fields = await node.methods.loadOptions.getFields.call(load({ model: rl('contacts') }));
      expect(fields.map((f) => f.value)).toEqual([...CONTACTS.fields.map((f) => f.name), 'id', 'createdAt', 'updatedAt']);

      const columns = async (operation: string) =>
        (await node.methods.resourceMapping.getRecordColumns.call(load({ model: rl('contacts'), operation }))).fields as ResourceMapperField[];
      const create = await columns('create');
      const typeOf = Object.fromEntries(create.map((f) => [f.id, f.type]));
      expect(typeOf).toEqual({
        email: 'string',
        name: 'string',
        bio: 'string',
        age: 'number',
        score: 'number',
        active: 'boolean',
        born: 'dateTime',
        seen_at: 'dateTime',
        level: 'options',
        meta: 'object',
        tags: 'array',
      });
      expect(create.find((f) => f.id === 'email')!.required).toBe(true);
      expect(create.find((f) => f.id === 'active')!.required).toBe(false); // it has a default
      expect(create.find((f) => f.id === 'level')!.options).toEqual([
        { name: 'junior', value: 'junior' },
        { name: 'senior', value: 'senior' },
      ]);
      const update = await columns('update');
      expect(update.filter((f) => f.canBeUsedToMatch).map((f) => f.id)).toEqual(['id']);
      expect(update[0]).toMatchObject({ id: 'id', displayName: 'ID', required: true, defaultMatch: true });
      const upsert = await columns('upsert');
      expect(upsert.filter((f) => f.canBeUsedToMatch).map((f) => f.id)).toEqual(['id', 'email']);
      expect(upsert.find((f) => f.defaultMatch)!.id).toBe('email');

      const params = (await node.methods.resourceMapping.getActionColumns.call(load({ action: rl(actionId) }))).fields;
      expect(params.map((p) => [p.id, p.type, p.required])).toEqual([
        ['email', 'string', true],
        ['years', 'number', false],
      ]); // "level" is fixed at definition
    });

    it('create, get, update, upsert (both ways), delete: typed values, items out paired with items in', async () => {
      const items = [{ json: { n: 1 } }, { json: { n: 2 } }];
      const created = await run(
        (i) =>
          record('create', {
            columns: mapped({
              email: `ann${i}@example.com`,
              name: `Ann ${i}`,
              age: '41', // text from an expression: the node sends the number
              score: 7.5,
              active: 'false',
              born: '1984-05-06T00:00:00.000+02:00',
              seen_at: '2026-01-02T03:04:05.000Z',
              level: 'junior',
              meta: '{"source":"n8n"}',
              tags: ['a', 'b'],
            }),
          }),
        items,
      );
      expect(created.map((o) => o.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);
      const ann = created[0]!.json;
      expect(ann).toMatchObject({
        email: 'ann0@example.com',
        age: 41,
        score: 7.5,
        active: false,
        born: '1984-05-06',
        level: 'junior',
        meta: { source: 'n8n' },
        tags: ['a', 'b'],
      });
      expect(ann.seen_at).toMatch(/^2026-01-02T03:04:05/);

      const got = await run(record('get', { recordId: ann.id }));
      expect(got[0]!.json).toMatchObject({ id: ann.id, name: 'Ann 0' });

      const updated = await run(record('update', { columns: mapped({ id: ann.id as string, name: 'Ann Updated', level: 'senior' }, ['id']) }));
      expect(updated[0]!.json).toMatchObject({ id: ann.id, name: 'Ann Updated', level: 'senior', age: 41 });

      const upserted = await run(record('upsert', { columns: mapped({ email: 'ann0@example.com', age: 42 }, ['email']) }));
      expect(upserted[0]!.json).toMatchObject({ id: ann.id, age: 42, name: 'Ann Updated' });
      const inserted = await run(record('upsert', { columns: mapped({ email: 'bob@example.com', name: 'Bob' }, ['email']) }));
      expect(inserted[0]!.json.id).not.toBe(ann.id);
      expect(inserted[0]!.json).toMatchObject({ email: 'bob@example.com', active: true });

      // Auto-map: the item's own fields that the model has (others ignored).
      const auto = await run(record('create', { columns: { mappingMode: 'autoMapInputData', value: null } }), [
        { json: { email: 'auto@example.com', age: 5, notAField: 'x' } },
      ]);
      expect(auto[0]!.json).toMatchObject({ email: 'auto@example.com', age: 5 });

      const deleted = await run(record('delete', { recordId: inserted[0]!.json.id }));
      expect(deleted[0]!.json).toEqual({ id: inserted[0]!.json.id, deleted: true });
      expect((await s.call('GET', `/data/contacts/${inserted[0]!.json.id as string}`)).status).toBe(404);
    });

    it('bulk create in one request; get many with filters, sort, limit and return all through the cursor', async () => {
      const items = Array.from({ length: 1105 }, (_, i) => ({ json: { email: `bulk${i}@example.com`, age: i % 100, name: i % 2 ? 'odd' : 'even' } }));
      const out = await run(record('bulkCreate', { columns: { mappingMode: 'autoMapInputData', value: null } }), items);
      expect(out).toHaveLength(1105);
      expect(out[1104]).toMatchObject({ json: { email: 'bulk1104@example.com' }, pairedItem: { item: 1104 } });
      expect(typeof out[0]!.json.id).toBe('string');

      const all = await run(record('getAll', { returnAll: true, filters: { conditions: [{ field: 'email', operator: 'startsWith', value: 'bulk' }] } }));
      expect(all).toHaveLength(1105); // more than one page of 1,000: the cursor was followed
      expect(new Set(all.map((o) => o.json.id)).size).toBe(1105);
      expect(all.every((o) => (o.pairedItem as { item: number }).item === 0)).toBe(true);

      const some = await run(
        record('getAll', {
          returnAll: false,
          limit: 1003,
          filters: { conditions: [{ field: 'email', operator: 'startsWith', value: 'bulk' }] },
          sort: { rules: [{ field: 'email', direction: 'asc' }] },
        }),
      );
      expect(some).toHaveLength(1003);

      const filtered = await run(
        record('getAll', {
          returnAll: false,
          limit: 5,
          filters: {
            conditions: [
              { field: 'age', operator: 'gte', value: '97' },
              { field: 'name', operator: 'eq', value: 'odd' },
              { field: 'email', operator: 'icontains', value: 'BULK' },
            ],
          },
          matchType: 'all',
          sort: {
            rules: [
              { field: 'age', direction: 'desc' },
              { field: 'email', direction: 'asc' },
            ],
          },
        }),
      );
      expect(filtered.map((o) => [o.json.age, o.json.email])).toEqual([
        [99, 'bulk1099@example.com'],
        [99, 'bulk199@example.com'],
        [99, 'bulk299@example.com'],
        [99, 'bulk399@example.com'],
        [99, 'bulk499@example.com'],
      ]);
      const anyOf = await run(
        record('getAll', {
          returnAll: true,
          filters: {
            conditions: [
              { field: 'email', operator: 'in', value: 'bulk1@example.com, bulk2@example.com' },
              { field: 'email', operator: 'eq', value: 'bulk3@example.com' },
            ],
          },
          matchType: 'any',
          sort: { rules: [{ field: 'email', direction: 'desc' }] },
        }),
      );
      expect(anyOf.map((o) => o.json.email)).toEqual(['bulk3@example.com', 'bulk2@example.com', 'bulk1@example.com']);
      const empty = await run(record('getAll', { returnAll: true, filters: { conditions: [{ field: 'bio', operator: 'isNull', value: 'false' }] } }));
      expect(empty).toEqual([]);
      const text = await run(record('getAll', { returnAll: false, limit: 10, options: { q: 'bulk1104' } }));
      expect(text.map((o) => o.json.email)).toContain('bulk1104@example.com');
    });

    it('similarity search over the local embedder, with a filter', async () => {
      const r = await s.call('POST', '/models', {
        name: 'notes',
        fields: [
          { name: 'body', type: 'text' },
          { name: 'kind', type: 'string' },
        ],
      });
      expect(r.status).toBe(201);
      const bodies = ['apples and pears grow on trees', 'the harbour is full of boats', 'pears ripen in autumn', 'boats need harbours'];
      for (const [i, body] of bodies.entries()) expect((await s.call('POST', '/data/notes', { body, kind: i % 2 ? 'sea' : 'fruit' })).status).toBe(201);
      const e = await s.call('PATCH', '/models/notes', { embedding: { enabled: true, sourceFields: ['body'], provider: 'local' } });
      expect(e.status, JSON.stringify(e.json)).toBe(200);
      await until('embeddings done', async () => (await s.call('GET', '/models/notes/embeddings')).json.data.done === 4, 60_000, 200);
      const params = { resource: 'record', operation: 'search', model: rl('notes'), query: 'pears', mode: 'vector', topK: 2 };
      const found = await run(params);
      expect(found.map((o) => o.json.kind)).toEqual(['fruit', 'fruit']);
      expect(found[0]!.json.body).toMatch(/pears/);
      const sea = await run({ ...params, query: 'boats', mode: 'keyword', filters: { conditions: [{ field: 'kind', operator: 'eq', value: 'sea' }] } });
      expect(sea.length).toBeGreaterThan(0);
      expect(sea.every((o) => o.json.kind === 'sea')).toBe(true);
    });

    it('runs an action with the parameters of its definition, and a flow waiting for its output', async () => {
      const ran = await run({ resource: 'action', operation: 'run', action: rl(actionId), parameters: mapped({ email: 'promoted@example.com', years: '33' }) });
      expect(ran[0]!.json.status).toBe('succeeded');
      const rec = await run(
        record('getAll', { returnAll: true, filters: { conditions: [{ field: 'email', operator: 'eq', value: 'promoted@example.com' }] } }),
      );
      expect(rec[0]!.json).toMatchObject({ age: 33, level: 'senior' });

      const flow = await run({ resource: 'flow', operation: 'run', flow: rl(flowId), input: '{"n": 21}' }, [{ json: {} }, { json: {} }]);
      expect(flow).toHaveLength(2);
      expect(flow[0]!.json).toMatchObject({ status: 'succeeded', output: { doubled: 42 } });
      expect(flow[1]!.pairedItem).toEqual({ item: 1 });
      await expect(run({ resource: 'flow', operation: 'run', flow: rl(failingFlowId), input: '{}' })).rejects.toThrow(/failed/);
    });

    it("errors carry Infinity's code and message; continue on fail turns them into items, paired", async () => {
      const missing = '01900000-0000-7000-8000-000000000000';
      const err = await run(record('get', { recordId: missing })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NodeApiError);
      expect((err as NodeApiError).message).toMatch(/^RECORD_NOT_FOUND: /);
      expect((err as NodeApiError).httpCode).toBe('404');
      expect((err as NodeApiError).context.infinityCode).toBe('RECORD_NOT_FOUND');

      const items = [{ json: { id: missing } }, { json: { id: 'not-a-uuid' } }];
      const out = await run((i) => record('get', { recordId: items[i]!.json.id }), items, { continueOnFail: true });
      expect(out.map((o) => [o.json.code, o.pairedItem])).toEqual([
        ['RECORD_NOT_FOUND', { item: 0 }],
        ['VALIDATION_FAILED', { item: 1 }],
      ]);
      expect(out[0]!.json.error).toMatch(/^RECORD_NOT_FOUND: /);

      // A unique violation in a bulk create refuses the whole batch: with continue on fail, every item says so.
      const dup = [{ json: { email: 'dup@example.com' } }, { json: { email: 'dup@example.com' } }];
      const bulk = await run(record('bulkCreate', { columns: { mappingMode: 'autoMapInputData', value: null } }), dup, { continueOnFail: true });
      expect(bulk).toHaveLength(2);
      expect(bulk.every((o) => typeof o.json.code === 'string' && o.json.code !== '')).toBe(true);
      expect(bulk.map((o) => o.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);

      // The key's role bounds the node: a viewer may read but not write.
      const viewer = { ...creds, apiKey: s.viewerKey };
      const denied = await node.execute
        .call(executeContext({ credentials: viewer, parameters: record('create', { columns: mapped({ email: 'v@example.com' }) }) }))
        .catch((e: unknown) => e);
      expect(denied).toBeInstanceOf(NodeApiError);
      expect((denied as NodeApiError).httpCode).toBe('403');
      expect(String((denied as NodeApiError).context.infinityCode)).toMatch(/^[A-Z_]+$/);
    });
  });
}
