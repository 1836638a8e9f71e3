/**
 * The Make app (integrations/make/src) run against a real Infinity, as Make would run it: the
 * connection verified, every RPC, every module's form filled and the module run, its outputs held
 * against its interface, the instant trigger's webhook attached with a loopback URL that receives
 * Infinity's real deliveries, updated and detached. Every request the app can make, and every one
 * it made, is checked against the organization's OpenAPI document; every IML string of the app
 * must have been evaluated by the end (the interpreter fails on what it does not know).
 */
import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../../apps/server/src/platform/testing/backends.js';
import { type RunningServer, e2eEnv, startServer, until } from '../../../test/e2e/server-process.js';
import { type OpenApiDoc, checkCalls, checkTemplates, requestTemplates } from './openapi.js';
import { type Hook, MakeError, MakeRunner } from './runner.js';

type Json = Record<string, unknown>;

const ORDER_FIELDS = [
  { name: 'title', type: 'string', required: true, label: 'Title' },
  { name: 'notes', type: 'text', description: 'Free text' },
  { name: 'amount', type: 'integer' },
  { name: 'price', type: 'number' },
  { name: 'paid', type: 'boolean' },
  { name: 'due', type: 'date' },
  { name: 'shipped_at', type: 'datetime' },
  { name: 'status', type: 'enum', values: ['new', 'paid'] },
  { name: 'meta', type: 'json' },
  { name: 'tags', type: 'array', items: 'string' },
  { name: 'customer', type: 'relation', target: 'customers', kind: 'many-to-one', onDelete: 'set null' },
];

/** A loopback receiver standing in for Make's webhook URL: each delivery goes through the app's webhook. */
async function makeWebhookUrl(handle: (req: { body: unknown; headers: IncomingHttpHeaders; query: Json }) => Promise<{ status: number; body: unknown }>) {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      handle({ body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown, headers: req.headers, query: Object.fromEntries(url.searchParams) })
        .then((r) => res.writeHead(r.status, { 'content-type': 'application/json' }).end(JSON.stringify(r.body)))
        .catch((err: unknown) => res.writeHead(500).end(String(err)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/make-hook`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function refusal(p: Promise<unknown>): Promise<MakeError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof MakeError)) throw new Error(`expected a Make error, got ${String(err)}`);
  return err;
}

for (const backend of testBackends()) {
  describe(`Make app against a running Infinity [${backend}]`, () => {
    let s: RunningServer;
    let token = '';
    let adminKey = '';
    let viewerKey = '';
    let doc: OpenApiDoc;
    const make = new MakeRunner();

    const api = async (method: string, p: string, body?: unknown, auth: Json = { authorization: `Bearer ${token}` }) => {
      const r = await fetch(`${s.url}/api/v1${p}`, {
        method,
        headers: { ...(auth as Record<string, string>), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await r.text();
      return { status: r.status, json: (text ? JSON.parse(text) : {}) as { data: Json & Json[] } };
    };
    const newKey = async (role: string) => {
      const r = await api('POST', '/api-keys', { name: `make ${role}`, role, kind: 'service' });
      expect(r.status).toBe(201);
      return r.json.data.key as string;
    };

    beforeAll(async () => {
      s = await startServer([], { ...(await e2eEnv(backend, 'make')), INFINITY_HTTP_ALLOW: '127.0.0.1/32' });
      const signup = await api('POST', '/auth/signup', { name: 'Maker', email: 'maker@example.com', password: 'make scenarios daily' }, {});
      token = signup.json.data.accessToken as string;
      adminKey = await newKey('admin');
      viewerKey = await newKey('viewer');
      expect(
        (await api('POST', '/models', { name: 'customers', label: 'Customers', fields: [{ name: 'name', type: 'string', required: true, unique: true }] }))
          .status,
      ).toBe(201);
      expect((await api('POST', '/models', { name: 'orders', label: 'Orders', fields: ORDER_FIELDS })).status).toBe(201);
      const docRes = await fetch(`${s.url}/api/v1/openapi.json`, { headers: { 'x-api-key': adminKey } });
      doc = (await docRes.json()) as OpenApiDoc;
    }, 180_000);

    afterAll(async () => {
      await s?.stop();
    });

    it('connection: tested with GET /me; a wrong key is refused as an invalid access token', async () => {
      const bad = await refusal(make.connect({ baseUrl: s.url, apiKey: 'inf_not_a_key' }));
      expect(bad.type).toBe('InvalidAccessTokenError');
      expect(bad.message).toMatch(/^\[401\] AUTH_/);
      await expect(make.connect({ baseUrl: s.url })).rejects.toThrow('apiKey is required');
      expect(await make.connect({ baseUrl: s.url, apiKey: adminKey })).toEqual({ type: 'text', value: "Maker's workspace (admin)" });
      expect(make.calls.at(-1)!.url.pathname).toBe('/api/v1/me');
    });

    it('RPCs: models as options, a model’s fields as typed parameters (required as defined, or all optional)', async () => {
      expect(await make.rpc('listModels')).toEqual([
        { label: 'Customers', value: 'customers' },
        { label: 'Orders', value: 'orders' },
      ]);
      const fields = (await make.rpc('listRecordFields', { modelName: 'orders' })) as Json[];
      expect(fields).toEqual([
        { name: 'title', label: 'Title', type: 'text', multiline: false, required: true },
        { name: 'notes', label: 'notes', type: 'text', multiline: true, help: 'Free text', required: false },
        { name: 'amount', label: 'amount', type: 'integer', multiline: false, required: false },
        { name: 'price', label: 'price', type: 'number', multiline: false, required: false },
        { name: 'paid', label: 'paid', type: 'boolean', multiline: false, required: false },
        { name: 'due', label: 'due', type: 'date', multiline: false, required: false },
        { name: 'shipped_at', label: 'shipped_at', type: 'date', multiline: false, required: false },
        { name: 'status', label: 'status', type: 'text', multiline: false, help: 'One of: new, paid', required: false },
        { name: 'meta', label: 'meta', type: 'any', multiline: false, required: false },
        { name: 'tags', label: 'tags', type: 'array', multiline: false, required: false },
        { name: 'customer', label: 'customer', type: 'text', multiline: false, help: 'The ID of a customers record', required: false },
      ]);
      const optional = (await make.rpc('listRecordFieldsAllOptional', { modelName: 'orders' })) as Json[];
      expect(optional.map((f) => f.required)).toEqual(fields.map(() => false));
      // Before a model is chosen the field RPCs ask nothing (their condition).
      const before = make.calls.length;
      expect(await make.rpc('listRecordFields', {})).toEqual([]);
      expect(await make.rpc('listRecordFieldsAllOptional', {})).toEqual([]);
      expect(make.calls.length).toBe(before);
    });

    let orderId = '';
    let customerId = '';
    it('Create a Record: the form’s fields from the model, the record back as output; refusals keep Infinity’s code', async () => {
      const [customer] = (await make.run('createRecord', { modelName: 'customers', name: 'Acme' })) as Json[];
      customerId = customer!.id as string;
      const [order] = (await make.run('createRecord', {
        modelName: 'orders',
        title: 'Lamp',
        notes: 'two lines\nof notes',
        amount: 3,
        price: 19.5,
        paid: false,
        due: '2026-12-24',
        shipped_at: '2026-12-20T10:00:00.000Z',
        status: 'new',
        meta: { color: 'red' },
        tags: ['gift', 'light'],
        customer: customerId,
      })) as Json[];
      orderId = order!.id as string;
      expect(order).toMatchObject({
        title: 'Lamp',
        amount: 3,
        price: 19.5,
        paid: false,
        status: 'new',
        meta: { color: 'red' },
        tags: ['gift', 'light'],
        customer: customerId,
      });
      expect((await api('GET', `/data/orders/${orderId}`)).json.data.title).toBe('Lamp');

      await expect(make.run('createRecord', { modelName: 'orders', amount: 1 })).rejects.toThrow('title is required');
      await expect(make.run('createRecord', { modelName: 'orders', title: 'x', amount: 'many' })).rejects.toThrow('is not an integer');
      await expect(make.run('createRecord', { modelName: 'orders', title: 'x', colour: 'red' })).rejects.toThrow('colour: no such parameter');
      await expect(make.run('createRecord', { modelName: 'invoices', title: 'x' })).rejects.toThrow('not one of its options');
      await expect(make.run('createRecord', { modelName: 'orders', title: 'x', due: 'soon' })).rejects.toThrow('is not a date');
      // What only Infinity knows (an enum's values are help text in the form) comes back as Infinity's error.
      const invalid = await refusal(make.run('createRecord', { modelName: 'orders', title: 'x', status: 'lost' }));
      expect(invalid.type).toBe('DataError');
      expect(invalid.message).toMatch(/^\[422\] RECORD_INVALID: .*status/);
      const duplicate = await refusal(make.run('createRecord', { modelName: 'customers', name: 'Acme' }));
      expect(duplicate.type).toBe('DuplicateDataError');
      expect(duplicate.message).toMatch(/^\[409\] RECORD_UNIQUE_VIOLATION: /);
    });

    it('Get and Update a Record; Update sends only the fields given', async () => {
      const [got] = (await make.run('getRecord', { modelName: 'orders', recordId: orderId })) as Json[];
      expect(got).toMatchObject({ id: orderId, title: 'Lamp', amount: 3 });
      const [updated] = (await make.run('updateRecord', { modelName: 'orders', recordId: orderId, amount: 4, paid: true })) as Json[];
      expect(updated).toMatchObject({ id: orderId, title: 'Lamp', amount: 4, paid: true, status: 'new' });
      await expect(make.run('updateRecord', { modelName: 'orders', amount: 4 })).rejects.toThrow('recordId is required');
      await make.checkSamples('getRecord', { modelName: 'orders' });
    });

    it('Search Records: filter, search text, sort and limit, page after page through the cursor', async () => {
      const items = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta'].map((title, i) => ({ title, amount: 10 + i }));
      expect((await api('POST', '/data/orders/bulk', { op: 'create', items })).status).toBe(200);
      const before = make.calls.length;
      const top = (await make.run('searchRecords', {
        modelName: 'orders',
        filter: '{"amount": {"gte": 11}}',
        sort: '-amount',
        limit: 5,
        pageSize: 2,
      })) as Json[];
      expect(top.map((r) => r.title)).toEqual(['eta', 'zeta', 'epsilon', 'delta', 'gamma']);
      const searchFile = make.rt.app.modules.searchRecords!.communication.file;
      const pagesOf = (from: number) => make.calls.slice(from).filter((c) => c.code === searchFile);
      const pages = pagesOf(before);
      expect(pages.map((c) => c.url.searchParams.get('limit'))).toEqual(['2', '2', '2']);
      expect(pages[0]!.url.searchParams.has('cursor')).toBe(false);
      expect(pages.slice(1).every((c) => (c.url.searchParams.get('cursor') ?? '') !== '')).toBe(true);
      expect(pages.every((c) => c.url.searchParams.get('sort') === '-amount')).toBe(true);

      // All of them, three a page: the last page's nextCursor is null and paging stops there.
      const all = (await make.run('searchRecords', {
        modelName: 'orders',
        filter: '{"amount": {"gte": 10}}',
        sort: 'amount',
        limit: 100,
        pageSize: 3,
      })) as Json[];
      expect(all.map((r) => r.amount)).toEqual([10, 11, 12, 13, 14, 15, 16]);
      expect(pagesOf(before).length).toBe(3 + 3);
      expect(((await make.run('searchRecords', { modelName: 'orders', q: 'gamma', limit: 10 })) as Json[]).map((r) => r.title)).toEqual(['gamma']);
      const bad = await refusal(make.run('searchRecords', { modelName: 'orders', filter: '{"nope": {"eq": 1}}', limit: 10 }));
      expect(bad.message).toMatch(/^\[400\] QUERY_INVALID: /);
      await expect(make.run('searchRecords', { modelName: 'orders', limit: 10, pageSize: 5000 })).rejects.toThrow('above 1000');
      await make.checkSamples('searchRecords', { modelName: 'orders' });
    });

    it('Delete a Record; afterwards Get answers 404; a viewer’s key may read but not write; another organization sees nothing', async () => {
      const [del] = (await make.run('deleteRecord', { modelName: 'orders', recordId: orderId })) as Json[];
      expect(del).toEqual({ id: orderId, deleted: true });
      const gone = await refusal(make.run('getRecord', { modelName: 'orders', recordId: orderId }));
      expect(gone.type).toBe('DataError');
      expect(gone.message).toMatch(/^\[404\] /);
      await make.checkSamples('deleteRecord', { modelName: 'orders' });

      const viewer = new MakeRunner();
      await viewer.connect({ baseUrl: s.url, apiKey: viewerKey });
      expect(((await viewer.run('searchRecords', { modelName: 'customers', limit: 10 })) as Json[]).map((r) => r.name)).toEqual(['Acme']);
      const forbidden = await refusal(viewer.run('createRecord', { modelName: 'customers', name: 'Viewer Inc' }));
      expect(forbidden.type).toBe('InvalidConfigurationError');
      expect(forbidden.message).toMatch(/^\[403\] FORBIDDEN: /);

      const other = await api('POST', '/auth/signup', { name: 'Other', email: 'other@example.com', password: 'another org entirely' }, {});
      const otherToken = other.json.data.accessToken as string;
      const otherKey = (await api('POST', '/api-keys', { name: 'other', role: 'admin', kind: 'service' }, { authorization: `Bearer ${otherToken}` })).json.data
        .key as string;
      const stranger = new MakeRunner();
      await stranger.connect({ baseUrl: s.url, apiKey: otherKey });
      expect(await stranger.rpc('listModels')).toEqual([]);
      const hidden = await refusal(stranger.rpc('listRecordFields', { modelName: 'customers' }));
      expect(hidden.message).toMatch(/^\[404\] /);
    });

    it('Run an Action: its parameters from its definition (fixed ones left out); a failed run is refused with its code', async () => {
      const created = await api('POST', '/actions', {
        name: 'Customer with a first order',
        params: [
          { name: 'customer', type: 'string', required: true, description: 'Company name' },
          { name: 'amount', type: 'integer', required: true },
          { name: 'source', type: 'string', value: 'make' },
        ],
        steps: [
          { id: 'c', op: 'create', model: 'customers', values: { name: '{{params.customer}}' } },
          { id: 'o', op: 'create', model: 'orders', values: { title: '{{params.source}}', amount: '{{params.amount}}', customer: '{{steps.c.id}}' } },
        ],
      });
      expect(created.status).toBe(201);
      const actionId = created.json.data.id as string;
      expect(await make.rpc('listActions')).toEqual([{ label: 'Customer with a first order', value: actionId }]);
      expect(await make.rpc('listActionParams', { _actionId: actionId })).toEqual([
        { name: 'customer', label: 'customer', type: 'text', help: 'Company name', required: true },
        { name: 'amount', label: 'amount', type: 'integer', required: true },
      ]);
      const [run] = (await make.run('runAction', { _actionId: actionId, customer: 'Globex', amount: 12 })) as Json[];
      expect(run).toMatchObject({ actionId, status: 'succeeded', input: { customer: 'Globex', amount: 12, source: 'make' } });
      const order = ((await api('GET', `/data/orders?filter=${encodeURIComponent('{"title": "make"}')}`)).json.data as Json[])[0]!;
      expect(order.amount).toBe(12);
      await expect(make.run('runAction', { _actionId: actionId, customer: 'Initech', amount: 1, source: 'zapier' })).rejects.toThrow(
        'source: no such parameter',
      );
      const failed = await refusal(make.run('runAction', { _actionId: actionId, customer: 'Globex', amount: 1 }));
      expect(failed.type).toBe('DataError');
      expect(failed.message).toMatch(/^\[422\] ACTION_RUN_FAILED: /);
      expect(await make.rpc('listActionParams', {})).toEqual([]);
      await make.checkSamples('runAction', {});
    });

    it('Run a Flow: the input as key/value pairs, the finished execution back; a failed execution is an error', async () => {
      const node = (id: string, type: string, params: Json = {}) => ({ id, type, name: id, position: { x: 0, y: 0 }, params });
      const edge = (source: string, target: string) => ({ id: `${source}-${target}`, source, sourceHandle: 'main', target, targetHandle: 'main' });
      const flow = async (name: string, expression: string) =>
        (
          await api('POST', '/flows', {
            name,
            nodes: [node('start', 'trigger.manual'), node('calc', 'core.transform', { expression })],
            edges: [edge('start', 'calc')],
          })
        ).json.data.id as string;
      const sum = await flow('Sum', '{ "total": $input.a + $input.b, "label": $input.label }');
      const boom = await flow('Boom', '$error("boom")');
      expect(((await make.rpc('listFlows')) as Json[]).map((o) => o.label).sort()).toEqual(['Boom', 'Sum']);
      const [exec] = (await make.run('runFlow', {
        flowId: sum,
        input: [
          { key: 'a', value: 2 },
          { key: 'b', value: 3 },
          { key: 'label', value: 'five' },
        ],
      })) as Json[];
      expect(exec).toMatchObject({ flowId: sum, status: 'succeeded', input: { a: 2, b: 3, label: 'five' }, output: { total: 5, label: 'five' } });
      expect(make.calls.at(-1)!.url.searchParams.get('wait')).toBe('true');
      const failed = await refusal(make.run('runFlow', { flowId: boom }));
      expect(failed.type).toBe('RuntimeError');
      expect(failed.message).toMatch(/^Execution [0-9a-f-]+ failed: \[EXPRESSION_FAILED\] .*boom/);
      await make.checkSamples('runFlow', {});
    });

    it('Watch Records: attach subscribes the Make URL, real deliveries become bundles, update changes the events, detach unsubscribes', async () => {
      const bundles: Json[] = [];
      let hook: Hook | undefined;
      const target = await makeWebhookUrl(async (req) => {
        const r = await make.receive(hook!, 'watchRecords', { body: req.body, headers: req.headers as Json, query: req.query });
        bundles.push(r.bundle as Json);
        return { status: r.respond.status, body: r.respond.body };
      });
      try {
        hook = await make.attach(target.url, { model: 'orders' });
        const webhookId = hook.data.externalHookId as string;
        expect(hook.data.model).toBe('orders');
        const listed = await api('GET', `/webhooks/${webhookId}`);
        expect(listed.json.data).toMatchObject({ url: target.url, events: ['record.created'], model: 'orders', enabled: true });

        const [created] = (await make.run('createRecord', { modelName: 'orders', title: 'Desk', amount: 1, customer: customerId })) as Json[];
        await until('the created record delivered', async () => bundles.length >= 1);
        const first = bundles[0] as { record: Json };
        expect(first).toMatchObject({ event: 'record.created', model: 'orders', record: { id: created!.id, title: 'Desk', amount: 1, customer: customerId } });
        expect(typeof bundles[0]!.deliveryId).toBe('string');
        // docs/integrations/make.md's worked example: the bundle mapped into Get and Update.
        const [customer] = (await make.run('getRecord', { modelName: 'customers', recordId: first.record.customer })) as Json[];
        await make.run('updateRecord', { modelName: 'orders', recordId: first.record.id, notes: `Customer: ${customer!.name as string}` });
        expect((await api('GET', `/data/orders/${created!.id as string}`)).json.data.notes).toBe('Customer: Acme');

        hook = await make.update(hook, { model: 'orders', events: ['record.updated', 'record.deleted'] });
        expect((await api('GET', `/webhooks/${webhookId}`)).json.data.events).toEqual(['record.updated', 'record.deleted']);
        await make.run('updateRecord', { modelName: 'orders', recordId: created!.id, amount: 2 });
        await until('the update delivered', async () => bundles.length >= 2);
        expect(bundles[1]).toMatchObject({ event: 'record.updated', record: { amount: 2 }, previous: { amount: 1 }, changed: ['amount'] });
        await make.run('deleteRecord', { modelName: 'orders', recordId: created!.id });
        await until('the delete delivered', async () => bundles.length >= 3);
        expect(bundles[2]).toMatchObject({ event: 'record.deleted', record: { id: created!.id, title: 'Desk' } });
        // The app's answer (respond) is what Infinity logged for the delivery.
        // (Infinity logs a delivery once it has read the answer, which may be just after the bundle was made.)
        const deliveries = await until('three deliveries logged as delivered', async () => {
          const list = (await api('GET', `/webhooks/${webhookId}/deliveries`)).json.data as Json[];
          return list.length === 3 && list.every((d) => d.status === 'delivered') && list;
        });
        const attempts = deliveries.flatMap((d) => d.attempts as Json[]);
        expect(attempts.map((a) => [a.statusCode, a.responseExcerpt])).toEqual(Array(3).fill([200, '{"received":true}']));
        expect(deliveries.map((d) => d.id).sort()).toEqual(bundles.map((b) => b.deliveryId).sort());
        await make.checkSamples('watchRecords', {}, hook.data);

        await make.detach(hook);
        expect((await api('GET', `/webhooks/${webhookId}`)).status).toBe(404);
        const detachedAgain = await refusal(make.detach(hook));
        expect(detachedAgain.message).toMatch(/^\[404\] /);
      } finally {
        await target.close();
      }
      await expect(make.attach(target.url, { model: 'orders', events: ['record.archived'] })).rejects.toThrow('not one of its options');
    });

    it('every request the app can make and every one it made is in the organization’s OpenAPI document', () => {
      const templates = requestTemplates(make.rt.app);
      expect(templates.length).toBe(17);
      expect(checkTemplates(doc, templates)).toEqual([]);
      expect(make.calls.length).toBeGreaterThan(40);
      expect(checkCalls(doc, make.calls)).toEqual([]);
      // Every request of the definition was sent at least once in this run.
      const sent = new Set(make.calls.map((c) => c.code));
      expect(templates.map((t) => t.code).filter((c) => !sent.has(c))).toEqual([]);
    });

    it('every IML string of the app was evaluated by this run', () => {
      expect(make.rt.cov.all.size).toBeGreaterThan(60);
      expect(make.rt.cov.unvisited()).toEqual([]);
    });
  });
}
