import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, expect, it } from 'vitest';
import { openDatabase } from '../../platform/db/index.js';
import { createApiKey, signUp } from '../../platform/testing/actors.js';
import { type Harness, createHarness, describeEachDb } from '../../platform/testing/harness.js';
import { MAX_RESULT_CHARS } from './index.js';

/** An MCP client of the official SDK, over real HTTP, with an API key. */
async function connect(base: string, key: string, header: 'x-api-key' | 'authorization' = 'x-api-key'): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(`${base}/api/v1/mcp`), {
    requestInit: { headers: header === 'x-api-key' ? { 'x-api-key': key } : { authorization: `Bearer ${key}` } },
  });
  const client = new Client({ name: 'mcp-test', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

const textOf = (r: unknown) => ((r as CallToolResult).content[0] as { text: string }).text;
const json = (r: unknown) => JSON.parse(textOf(r)) as Record<string, unknown> & unknown[];
const errorOf = (r: unknown) => {
  expect((r as CallToolResult).isError, textOf(r)).toBe(true);
  return (JSON.parse(textOf(r)) as { error: { code: string; message: string } }).error;
};

async function listen(h: Harness): Promise<string> {
  await h.built.app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(h.built.app.server.address() as AddressInfo).port}`;
}

describeEachDb('MCP server: the SDK client over HTTP', (h) => {
  let base: string;
  let editor: Client;
  let viewer: Client;
  let other: Client;
  let ids: { record: string; action: string; flow: string; keys: { editor: string; viewer: string; other: string } };
  const clients: Client[] = [];
  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
  });

  it('connects with an API key (X-API-Key or Bearer) and lists the tools and the models as resources', async () => {
    base = await listen(h());
    const owner = await signUp(h(), 'MCP owner');
    const req = (method: string, url: string, body?: unknown) => h().request({ method, url, token: owner.token, body });
    expect(
      (
        await req('POST', '/api/v1/models', {
          name: 'products',
          label: 'Products',
          fields: [
            { name: 'title', type: 'string' },
            { name: 'price', type: 'number' },
          ],
        })
      ).statusCode,
    ).toBe(201);
    expect(
      (await req('PATCH', '/api/v1/models/products', { embedding: { enabled: true, provider: 'local', dimensions: 128, sourceFields: ['title'] } })).statusCode,
    ).toBe(200);
    const made = await req('POST', '/api/v1/data/products/bulk', {
      op: 'create',
      items: [
        { title: 'Red running shoes', price: 80 },
        { title: 'Blue rain jacket', price: 120 },
        { title: 'Green garden hose', price: 25 },
      ],
    });
    expect(made.statusCode, made.body).toBe(200);
    await h().built.embeddings.drain();
    const action = await req('POST', '/api/v1/actions', {
      name: 'Add product',
      params: [{ name: 'title', type: 'string', required: true }],
      steps: [{ id: 'p', op: 'create', model: 'products', values: { title: '{{params.title}}', price: 1 } }],
    });
    expect(action.statusCode, action.body).toBe(201);
    const flow = await req('POST', '/api/v1/flows', {
      name: 'Double',
      nodes: [
        { id: 'start', type: 'trigger.manual', name: 'start', position: { x: 0, y: 0 }, params: {} },
        { id: 'twice', type: 'core.transform', name: 'twice', position: { x: 200, y: 0 }, params: { expression: '{ "doubled": $input.x * 2 }' } },
      ],
      edges: [{ id: 'e', source: 'start', target: 'twice' }],
    });
    expect(flow.statusCode, flow.body).toBe(201);
    const otherOwner = await signUp(h(), 'Other org');
    ids = {
      record: (await req('GET', '/api/v1/data/products?filter[title][eq]=Green%20garden%20hose')).json().data[0].id,
      action: action.json().data.id,
      flow: flow.json().data.id,
      keys: {
        editor: (await createApiKey(h(), owner.token, 'editor')).key,
        viewer: (await createApiKey(h(), owner.token, 'viewer')).key,
        other: (await createApiKey(h(), otherOwner.token, 'admin')).key,
      },
    };
    editor = await connect(base, ids.keys.editor);
    viewer = await connect(base, ids.keys.viewer, 'authorization');
    other = await connect(base, ids.keys.other);
    clients.push(editor, viewer, other);

    expect(editor.getServerVersion()?.name).toBe('infinity');
    const tools = (await editor.listTools()).tools;
    expect(tools.map((t) => t.name).sort()).toEqual(
      [
        'create_record',
        'describe_model',
        'get_record',
        'list_actions',
        'list_flows',
        'list_models',
        'query_records',
        'run_action',
        'run_flow',
        'similarity_search',
        'update_record',
      ].sort(),
    );
    for (const t of tools) {
      expect(t.description!.length, t.name).toBeGreaterThan(20);
      expect(t.inputSchema.type).toBe('object');
    }
    expect(tools.find((t) => t.name === 'query_records')!.annotations?.readOnlyHint).toBe(true);
    expect(tools.find((t) => t.name === 'create_record')!.annotations?.readOnlyHint).toBe(false);

    const resources = (await editor.listResources()).resources;
    expect(resources).toEqual([expect.objectContaining({ uri: 'infinity://models/products', name: 'products', mimeType: 'application/json' })]);
    const read = await editor.readResource({ uri: 'infinity://models/products' });
    const def = JSON.parse((read.contents[0] as { text: string }).text) as { name: string; fields: { name: string; type: string }[]; orgId?: string };
    expect(def.name).toBe('products');
    expect(def.fields.map((f) => [f.name, f.type])).toEqual([
      ['title', 'string'],
      ['price', 'number'],
    ]);
    expect(def.orgId).toBeUndefined();
  });

  it('calls each tool with correct results', async () => {
    expect(json(await editor.callTool({ name: 'list_models', arguments: {} }))).toEqual([
      { name: 'products', label: 'Products', description: '', fields: ['title', 'price'], embeddings: true },
    ]);
    expect(json(await editor.callTool({ name: 'describe_model', arguments: { model: 'products' } }))).toMatchObject({
      name: 'products',
      fields: [
        { name: 'title', type: 'string' },
        { name: 'price', type: 'number' },
      ],
      embedding: { enabled: true, provider: 'local' },
    });

    const page1 = json(
      await editor.callTool({ name: 'query_records', arguments: { model: 'products', filter: { price: { gte: 50 } }, sort: '-price', limit: 1 } }),
    );
    expect((page1.data as { title: string }[]).map((r) => r.title)).toEqual(['Blue rain jacket']);
    expect(page1.nextCursor).toEqual(expect.any(String));
    const page2 = json(
      await editor.callTool({
        name: 'query_records',
        arguments: { model: 'products', filter: { price: { gte: 50 } }, sort: '-price', limit: 1, cursor: page1.nextCursor },
      }),
    );
    expect((page2.data as { title: string }[]).map((r) => r.title)).toEqual(['Red running shoes']);
    expect(page2.nextCursor).toBeNull();
    const anyOf = json(
      await editor.callTool({
        name: 'query_records',
        arguments: { model: 'products', filter: { or: [{ price: { lt: 30 } }, { title: { icontains: 'JACKET' } }] }, sort: 'price' },
      }),
    );
    expect((anyOf.data as { title: string }[]).map((r) => r.title)).toEqual(['Green garden hose', 'Blue rain jacket']);

    expect(json(await editor.callTool({ name: 'get_record', arguments: { model: 'products', id: ids.record } }))).toMatchObject({
      id: ids.record,
      title: 'Green garden hose',
      price: 25,
    });

    const created = json(await editor.callTool({ name: 'create_record', arguments: { model: 'products', values: { title: 'Yellow kayak', price: 640 } } }));
    expect(created).toMatchObject({ id: expect.any(String), title: 'Yellow kayak', price: 640 });
    const updated = json(await editor.callTool({ name: 'update_record', arguments: { model: 'products', id: created.id, values: { price: 599 } } }));
    expect(updated).toMatchObject({ id: created.id, title: 'Yellow kayak', price: 599 });
    const stored = (await h().request({ method: 'GET', url: `/api/v1/data/products/${created.id as string}`, apiKey: ids.keys.editor })).json().data;
    expect(stored).toMatchObject({ title: 'Yellow kayak', price: 599 });

    const hits = json(await editor.callTool({ name: 'similarity_search', arguments: { model: 'products', query: 'garden hose', k: 2, mode: 'keyword' } }));
    expect((hits as unknown as { title: string }[])[0]!.title).toBe('Green garden hose');
    await h().built.embeddings.drain();
    const near = json(await editor.callTool({ name: 'similarity_search', arguments: { model: 'products', query: 'rain jacket', k: 1 } }));
    expect(near).toEqual([expect.objectContaining({ title: 'Blue rain jacket', _score: expect.any(Number) })]);

    expect(json(await editor.callTool({ name: 'list_actions', arguments: {} }))).toEqual([
      { id: ids.action, name: 'Add product', description: '', params: [expect.objectContaining({ name: 'title', type: 'string', required: true })] },
    ]);
    expect(json(await editor.callTool({ name: 'list_flows', arguments: { limit: 10 } }))).toEqual([
      { id: ids.flow, name: 'Double', description: '', active: false, input: null },
    ]);
    const run = json(await editor.callTool({ name: 'run_action', arguments: { actionId: ids.action, params: { title: 'Made by an action' } } }));
    expect(run).toMatchObject({ runId: expect.any(String), status: 'succeeded' });
    expect(
      (await h().request({ method: 'GET', url: '/api/v1/data/products?filter[title][eq]=Made%20by%20an%20action', apiKey: ids.keys.editor })).json().data,
    ).toHaveLength(1);

    expect(json(await editor.callTool({ name: 'run_flow', arguments: { flowId: ids.flow, input: { x: 21 } } }))).toMatchObject({
      executionId: expect.any(String),
      status: 'succeeded',
      output: { doubled: 42 },
    });
  });

  it('answers errors as tool results with Infinity’s code and message', async () => {
    expect(errorOf(await editor.callTool({ name: 'describe_model', arguments: { model: 'nope' } }))).toMatchObject({ code: 'MODEL_NOT_FOUND' });
    expect(errorOf(await editor.callTool({ name: 'create_record', arguments: { model: 'products', values: { colour: 'red' } } })).code).toBe(
      'VALIDATION_FAILED',
    );
    expect(errorOf(await editor.callTool({ name: 'query_records', arguments: { model: 'products', filter: { price: { near: 3 } } } }))).toMatchObject({
      code: 'QUERY_INVALID',
      message: expect.stringContaining('unknown operator'),
    });
    const bad = (await editor.callTool({ name: 'get_record', arguments: { model: 'products' } })) as CallToolResult;
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).not.toMatch(/\bat .+\.(ts|js):\d+/);
  });

  it('bounds every tool by the key’s role: a viewer reads, and cannot create, update or run', async () => {
    expect(json(await viewer.callTool({ name: 'get_record', arguments: { model: 'products', id: ids.record } }))).toMatchObject({ id: ids.record });
    expect(json(await viewer.callTool({ name: 'list_actions', arguments: {} }))).toHaveLength(1);
    expect(json(await viewer.callTool({ name: 'list_flows', arguments: {} }))).toHaveLength(1);
    const before = (await h().request({ method: 'GET', url: '/api/v1/data/products', apiKey: ids.keys.viewer })).json().data.length as number;
    for (const [name, args] of [
      ['create_record', { model: 'products', values: { title: 'not allowed' } }],
      ['update_record', { model: 'products', id: ids.record, values: { price: 0 } }],
      ['run_action', { actionId: ids.action, params: { title: 'not allowed' } }],
      ['run_flow', { flowId: ids.flow, input: { x: 1 } }],
    ] as const) {
      expect(errorOf(await viewer.callTool({ name, arguments: args })), name).toMatchObject({ code: 'FORBIDDEN' });
    }
    expect((await h().request({ method: 'GET', url: '/api/v1/data/products', apiKey: ids.keys.viewer })).json().data).toHaveLength(before);
    expect((await h().request({ method: 'GET', url: `/api/v1/data/products/${ids.record}`, apiKey: ids.keys.viewer })).json().data.price).toBe(25);
  });

  it('never shows another organization’s models, records, actions or flows', async () => {
    expect(json(await other.callTool({ name: 'list_models', arguments: {} }))).toEqual([]);
    expect((await other.listResources()).resources).toEqual([]);
    await expect(other.readResource({ uri: 'infinity://models/products' })).rejects.toMatchObject({
      code: -32002,
      message: expect.stringMatching(/MODEL_NOT_FOUND: No model "products"/),
    });
    expect(errorOf(await other.callTool({ name: 'describe_model', arguments: { model: 'products' } })).code).toBe('MODEL_NOT_FOUND');
    expect(errorOf(await other.callTool({ name: 'query_records', arguments: { model: 'products' } })).code).toBe('MODEL_NOT_FOUND');
    expect(errorOf(await other.callTool({ name: 'get_record', arguments: { model: 'products', id: ids.record } })).code).toBe('MODEL_NOT_FOUND');
    expect(errorOf(await other.callTool({ name: 'update_record', arguments: { model: 'products', id: ids.record, values: { price: 1 } } })).code).toBe(
      'MODEL_NOT_FOUND',
    );
    expect(errorOf(await other.callTool({ name: 'similarity_search', arguments: { model: 'products', query: 'hose' } })).code).toBe('MODEL_NOT_FOUND');
    expect(json(await other.callTool({ name: 'list_actions', arguments: {} }))).toEqual([]);
    expect(json(await other.callTool({ name: 'list_flows', arguments: {} }))).toEqual([]);
    expect(errorOf(await other.callTool({ name: 'run_action', arguments: { actionId: ids.action } })).code).toBe('ACTION_NOT_FOUND');
    expect(errorOf(await other.callTool({ name: 'run_flow', arguments: { flowId: ids.flow } })).code).toBe('FLOW_NOT_FOUND');
  });

  it('refuses a request without a valid credential (401 in the error format); GET and DELETE answer 405', async () => {
    const init = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
    };
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    for (const [extra, code] of [
      [{}, 'UNAUTHENTICATED'],
      [{ 'x-api-key': 'inf_not_a_real_key' }, 'AUTH_API_KEY_INVALID'],
    ] as const) {
      const r = await fetch(`${base}/api/v1/mcp`, { method: 'POST', headers: { ...headers, ...extra }, body: JSON.stringify(init) });
      expect(r.status).toBe(401);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe(code);
    }
    await expect(connect(base, 'inf_not_a_real_key')).rejects.toThrow(/AUTH_API_KEY_INVALID/);
    for (const method of ['GET', 'DELETE']) {
      const r = await fetch(`${base}/api/v1/mcp`, { method, headers: { 'x-api-key': ids.keys.editor, accept: 'text/event-stream' } });
      expect(r.status, method).toBe(405);
      expect(r.headers.get('allow')).toBe('POST');
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('MCP_METHOD_NOT_ALLOWED');
    }
  });

  it('takes one message per request: a batch, which would run many tool calls under one rate-limit count, is refused and runs nothing', async () => {
    const call = (id: number) => ({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name: 'create_record', arguments: { model: 'products', values: { title: `batch ${id}`, price: 1 } } },
    });
    const headers = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
      'x-api-key': ids.keys.editor,
    };
    const batched = async () =>
      (await h().request({ method: 'GET', url: '/api/v1/data/products?filter[title][startsWith]=batch', apiKey: ids.keys.viewer }))
        .json()
        .data.map((r: { title: string }) => r.title);
    const r = await fetch(`${base}/api/v1/mcp`, { method: 'POST', headers, body: JSON.stringify([call(1), call(2)]) });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('VALIDATION_FAILED');
    expect(await batched()).toEqual([]);
    const one = await fetch(`${base}/api/v1/mcp`, { method: 'POST', headers, body: JSON.stringify([call(3)]) });
    expect(one.status).toBe(200);
    expect(await batched()).toEqual(['batch 3']);
  });

  it('is stateless: a client’s requests split across two server instances on one database all succeed', async () => {
    const db = h().kind === 'postgres' ? await openDatabase({ postgresUrl: (h().db as { url?: string }).url!, poolSize: 2 }) : h().db;
    const second = await createHarness(h().kind, {}, { db, keys: h().keys }, { start: false });
    try {
      const secondBase = await listen(second);
      // One transport whose requests alternate between the two instances: initialize on one, the calls on both.
      let n = 0;
      const alternate = async (input: string | URL | Request, init?: RequestInit) => {
        const url = new URL(input instanceof Request ? input.url : input.toString());
        const target = new URL(url.pathname + url.search, n++ % 2 === 0 ? base : secondBase);
        return fetch(target, init);
      };
      const transport = new StreamableHTTPClientTransport(new URL(`${base}/api/v1/mcp`), {
        fetch: alternate,
        requestInit: { headers: { 'x-api-key': ids.keys.editor } },
      });
      const client = new Client({ name: 'split', version: '1.0.0' });
      await client.connect(transport);
      clients.push(client);
      expect(transport.sessionId).toBeUndefined();
      const made = json(await client.callTool({ name: 'create_record', arguments: { model: 'products', values: { title: 'Split brain test', price: 3 } } }));
      const got = json(await client.callTool({ name: 'get_record', arguments: { model: 'products', id: made.id } }));
      expect(got).toMatchObject({ title: 'Split brain test' });
      expect(
        json(await client.callTool({ name: 'query_records', arguments: { model: 'products', filter: { title: { eq: 'Split brain test' } } } })).data,
      ).toHaveLength(1);
      expect((await client.listTools()).tools).toHaveLength(11);
      expect(n).toBeGreaterThanOrEqual(6);
    } finally {
      await second.built.close();
      if (db !== h().db) await db.close();
    }
  });

  it('bounds a result: past MAX_RESULT_CHARS it is cut and says so', async () => {
    const req = (method: string, url: string, body?: unknown) => h().request({ method, url, apiKey: ids.keys.editor, body });
    expect((await req('POST', '/api/v1/models', { name: 'notes', fields: [{ name: 'body', type: 'text' }] })).statusCode).toBe(201);
    const items = Array.from({ length: 60 }, (_, i) => ({ body: `${i} ${'lorem ipsum '.repeat(250)}` }));
    expect((await req('POST', '/api/v1/data/notes/bulk', { op: 'create', items })).statusCode).toBe(200);
    const r = textOf(await editor.callTool({ name: 'query_records', arguments: { model: 'notes', limit: 60 } }));
    expect(r.length).toBeLessThan(MAX_RESULT_CHARS + 200);
    expect(r).toMatch(/cut at 100000 characters: ask for fewer records \(limit\) or fewer fields\]$/);
    expect(JSON.parse(textOf(await editor.callTool({ name: 'query_records', arguments: { model: 'notes', limit: 5, fields: ['id'] } }))).data).toHaveLength(5);
  });
});
