import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it, onTestFinished } from 'vitest';
import { createApiKey, signUp } from '../../platform/testing/actors.js';
import { describeEachDb } from '../../platform/testing/harness.js';
import { pruneExecutions } from './index.js';

/** A loopback test server standing in for an outside API: records each request, can fail on cue. */
function fakeApi() {
  const seen: { method: string; url: string; body: string; idempotencyKey: string | undefined; auth: string | undefined }[] = [];
  let failuresLeft = 0;
  const hooks: { beforeAnswer?: (idempotencyKey: string | undefined) => Promise<void> } = {};
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => void answer());
    const answer = async () => {
      await hooks.beforeAnswer?.(req.headers['idempotency-key'] as string | undefined);
      seen.push({
        method: req.method!,
        url: req.url!,
        body,
        idempotencyKey: req.headers['idempotency-key'] as string | undefined,
        auth: req.headers.authorization,
      });
      if (req.url?.startsWith('/flaky') && failuresLeft > 0) {
        failuresLeft--;
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"busy"}');
        return;
      }
      if (req.url?.startsWith('/down')) {
        res.writeHead(503).end('down');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted: true, echo: body ? (JSON.parse(body) as unknown) : null }));
    };
  });
  return {
    seen,
    hooks,
    failNext: (n: number) => (failuresLeft = n),
    start: () => new Promise<string>((r) => server.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))),
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const api = fakeApi();
let apiUrl = '';
beforeAll(async () => {
  apiUrl = await api.start();
});
afterAll(() => api.stop());

const node = (id: string, type: string, params: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
  id,
  type,
  name: extra.name ?? id,
  position: { x: 0, y: 0 },
  params,
  ...extra,
});
const edge = (source: string, target: string, sourceHandle = 'main') => ({
  id: `${source}-${sourceHandle}-${target}`,
  source,
  sourceHandle,
  target,
  targetHandle: 'main',
});

describeEachDb(
  'flows and executions',
  (h) => {
    let key: string;
    let ownerToken: string;
    let viewerKey: string;
    let flowId: string;
    const req = (method: string, url: string, body?: unknown, k = key) => h().request({ method, url, apiKey: k, body });
    /** The first execution of the flow to end (execution.succeeded or execution.failed). */
    const ended = (flowId: string) =>
      new Promise<{ executionId: string; status: 'succeeded' | 'failed' }>((resolve) => {
        const offs = (['succeeded', 'failed'] as const).map((status) =>
          h().built.events.subscribe(`execution.${status}`, (e) => {
            if (e.flowId !== flowId) return;
            for (const off of offs) off();
            resolve({ executionId: e.executionId, status });
          }),
        );
      });

    it('creates a webhook → transform → if → (HTTP call | create record) → respond flow', async () => {
      const u = await signUp(h());
      ownerToken = u.token;
      key = (await createApiKey(h(), u.token, 'editor')).key;
      viewerKey = (await createApiKey(h(), u.token, 'viewer')).key;
      expect(
        (
          await req('POST', '/api/v1/models', {
            name: 'leads',
            fields: [
              { name: 'email', type: 'string', required: true, unique: true },
              { name: 'amount', type: 'number' },
            ],
          })
        ).statusCode,
      ).toBe(201);
      const r = await req('POST', '/api/v1/flows', {
        name: 'Lead intake',
        nodes: [
          node('hook', 'trigger.webhook', { path: 'lead', method: 'POST', respond: 'whenFinished' }),
          node('shape', 'core.transform', { expression: '{ "email": $input.body.email, "amount": $input.body.amount }' }, { name: 'Shape' }),
          node('big', 'core.if', { condition: '{{ $input.amount > 100 }}' }),
          node('notify', 'core.http', { method: 'POST', url: `${apiUrl}/big-deal`, body: '{{ $input }}' }),
          node('save', 'data.create', { model: 'leads', values: '{{ $input }}' }),
          node('reply', 'core.respond', { status: 201, body: '{{ { "email": $node["Shape"].output.email, "result": $input } }}' }),
        ],
        edges: [
          edge('hook', 'shape'),
          edge('shape', 'big'),
          edge('big', 'notify', 'true'),
          edge('big', 'save', 'false'),
          edge('notify', 'reply'),
          edge('save', 'reply'),
        ],
      });
      expect(r.statusCode, r.body).toBe(201);
      flowId = r.json().data.id;
      expect(r.json().data).toMatchObject({ version: 1, active: false });
    });

    it('answers 404 on the webhook until the flow is active', async () => {
      expect((await h().request({ method: 'POST', url: `/api/v1/hooks/${flowId}/lead`, body: { email: 'a@x.io', amount: 5 } })).statusCode).toBe(404);
      expect((await req('PATCH', `/api/v1/flows/${flowId}`, { active: true })).json().data.active).toBe(true);
    });

    it('takes the false branch: creates the record and answers with it', async () => {
      const r = await h().request({ method: 'POST', url: `/api/v1/hooks/${flowId}/lead`, body: { email: 'small@x.io', amount: 50 } });
      expect(r.statusCode, r.body).toBe(201);
      expect(r.json()).toMatchObject({ email: 'small@x.io', result: { email: 'small@x.io', amount: 50, id: expect.any(String) } });
      const execId = r.headers['x-execution-id'] as string;
      const e = (await req('GET', `/api/v1/executions/${execId}`)).json().data;
      expect(e).toMatchObject({ status: 'succeeded', trigger: 'webhook', flowId });
      expect(e.nodes.map((n: { nodeId: string }) => n.nodeId)).toEqual(['hook', 'shape', 'big', 'save', 'reply']);
      const byId = Object.fromEntries(e.nodes.map((n: { nodeId: string }) => [n.nodeId, n]));
      expect(byId.shape.input.body).toEqual({ email: 'small@x.io', amount: 50 });
      expect(byId.big.output).toEqual({ false: { email: 'small@x.io', amount: 50 } });
      expect(byId.save.output.main).toMatchObject({ email: 'small@x.io' });
      expect((await req('GET', '/api/v1/data/leads?filter[email][eq]=small@x.io')).json().data).toHaveLength(1);
    });

    it('takes the true branch: calls the allowed loopback API with an idempotency key', async () => {
      const before = api.seen.length;
      const seenWhileCalled: unknown[] = [];
      api.hooks.beforeAnswer = async (idem) => {
        const rows = await sql<{
          status: string;
          stored_nodes: number;
          leased: boolean;
        }>`select status, (select count(*)::int from node_runs where execution_id = e.id) as stored_nodes, lease_until > now() as leased from executions e where id = ${idem!.split(':')[0]!}`.execute(
          h().db.kysely,
        );
        seenWhileCalled.push(...rows.rows);
      };
      onTestFinished(() => void (api.hooks.beforeAnswer = undefined));
      const r = await h().request({ method: 'POST', url: `/api/v1/hooks/${flowId}/lead`, body: { email: 'big@x.io', amount: 500 } });
      expect(r.statusCode, r.body).toBe(201);
      expect(r.json().result.body).toEqual({ accepted: true, echo: { email: 'big@x.io', amount: 500 } });
      const call = api.seen[before]!;
      expect(call).toMatchObject({ method: 'POST', url: '/big-deal' });
      expect(call.idempotencyKey).toBe(`${r.headers['x-execution-id'] as string}:notify`);
      // A flow with side effects is recorded as running (with a lease) before its first node acts.
      expect(seenWhileCalled).toEqual([{ status: 'running', stored_nodes: 0, leased: true }]);
      expect((await req('GET', '/api/v1/data/leads?filter[email][eq]=big@x.io')).json().data).toHaveLength(0);
    });

    it('records a flow of pure nodes once, when it has finished: every node, its result, its timings', async () => {
      const make = async (name: string, expression: string) => {
        const r = await req('POST', '/api/v1/flows', {
          name,
          nodes: [
            node('hook', 'trigger.webhook', { path: 'p', respond: 'whenFinished' }),
            node('calc', 'core.transform', { expression }),
            node('reply', 'core.respond', { body: '{{ $input }}' }),
          ],
          edges: [edge('hook', 'calc'), edge('calc', 'reply')],
        });
        const id = r.json().data.id as string;
        await req('PATCH', `/api/v1/flows/${id}`, { active: true });
        return id;
      };
      const ok = await make('Pure', '{ "double": $input.body.n * 2 }');
      const r = await h().request({ method: 'POST', url: `/api/v1/hooks/${ok}/p`, body: { n: 21 } });
      expect(r.statusCode, r.body).toBe(200);
      expect(r.json()).toEqual({ double: 42 });
      const e = (await req('GET', `/api/v1/executions/${r.headers['x-execution-id'] as string}`)).json().data;
      expect(e).toMatchObject({ status: 'succeeded', trigger: 'webhook', flowId: ok, output: { double: 42 }, claims: 1, steps: 3, input: { body: { n: 21 } } });
      expect(e.nodes.map((n: { nodeId: string; status: string }) => `${n.nodeId}:${n.status}`)).toEqual([
        'hook:succeeded',
        'calc:succeeded',
        'reply:succeeded',
      ]);
      expect(e.nodes[1]).toMatchObject({ input: { body: { n: 21 } }, output: { main: { double: 42 } } });
      expect(Date.parse(e.finishedAt)).toBeGreaterThanOrEqual(Date.parse(e.startedAt));
      expect(e.createdAt).toBe(e.startedAt);
      expect(e.durationMs).toBeGreaterThanOrEqual(0);
      expect((await req('GET', `/api/v1/executions?flowId=${ok}`)).json().data.map((x: { id: string }) => x.id)).toEqual([e.id]);
      // A failing pure run is recorded too, with the node's error.
      const bad = await make('Pure but failing', '$error("no luck")');
      const f = await h().request({ method: 'POST', url: `/api/v1/hooks/${bad}/p`, body: {} });
      expect(f.statusCode).toBe(502);
      expect(f.json().error.code).toBe('EXECUTION_FAILED');
      const fe = (await req('GET', `/api/v1/executions/${f.json().error.details.executionId as string}`)).json().data;
      expect(fe.status).toBe('failed');
      expect(fe.nodes.find((n: { nodeId: string }) => n.nodeId === 'calc')).toMatchObject({
        status: 'failed',
        error: { message: expect.stringContaining('no luck') },
      });
    });

    it('refuses an invalid graph with every problem listed, and changes nothing', async () => {
      const r = await req('PUT', `/api/v1/flows/${flowId}`, {
        name: 'Broken',
        nodes: [
          node('a', 'trigger.manual'),
          node('b', 'core.nope'),
          node('c', 'core.transform', {}),
          node('d', 'core.noop'),
          node('e', 'core.noop'),
          node('f', 'trigger.schedule', { cron: 'not a cron' }),
        ],
        edges: [edge('a', 'c'), edge('a', 'zz'), edge('d', 'e'), edge('e', 'd'), edge('a', 'd', 'nowhere'), edge('d', 'a')],
      });
      expect(r.statusCode, r.body).toBe(422);
      const codes = (r.json().error.details as { code: string }[]).map((p) => p.code).sort();
      expect(codes).toEqual(expect.arrayContaining(['cycle', 'edge_into_trigger', 'invalid_params', 'unknown_node', 'unknown_node_type', 'unknown_port']));
      expect((r.json().error.details as { code: string; field?: string }[]).some((p) => p.code === 'invalid_params' && p.field === 'cron')).toBe(true);
      expect((await req('GET', `/api/v1/flows/${flowId}`)).json().data).toMatchObject({ name: 'Lead intake', version: 1 });
    });

    it('keeps versions, lists them, and restores an old one as a new version', async () => {
      const cur = (await req('GET', `/api/v1/flows/${flowId}`)).json().data;
      const r = await req('PATCH', `/api/v1/flows/${flowId}`, {
        name: 'Lead intake v2',
        nodes: cur.nodes.filter((n: { id: string }) => n.id !== 'notify'),
        edges: cur.edges.filter((e: { source: string; target: string }) => e.source !== 'notify' && e.target !== 'notify'),
      });
      expect(r.statusCode, r.body).toBe(200);
      expect(r.json().data.version).toBe(2);
      const versions = (await req('GET', `/api/v1/flows/${flowId}/versions`)).json();
      expect(versions.data.map((v: { version: number }) => v.version)).toEqual([2, 1]);
      const v1 = (await req('GET', `/api/v1/flows/${flowId}/versions/1`)).json().data;
      expect(v1.nodes.map((n: { id: string }) => n.id)).toEqual(['big', 'hook', 'notify', 'reply', 'save', 'shape']);
      const restored = (await req('POST', `/api/v1/flows/${flowId}/versions/1/restore`)).json().data;
      expect(restored).toMatchObject({ version: 3, name: 'Lead intake' });
      expect(restored.nodes).toHaveLength(6);
    });

    it('retries a failing node with backoff, then takes its error port', async () => {
      api.failNext(5);
      const r = await req('POST', '/api/v1/flows', {
        name: 'Flaky call',
        nodes: [
          node('start', 'trigger.manual'),
          node('call', 'core.http', { url: `${apiUrl}/flaky` }, { settings: { retries: 2, retryDelayMs: 1 } }),
          node('ok', 'core.set', { values: { path: 'ok' } }),
          node('handled', 'core.set', { values: { path: 'error', code: '{{ $input.error.code }}' }, keepInput: false }),
        ],
        edges: [edge('start', 'call'), edge('call', 'ok'), edge('call', 'handled', 'error')],
      });
      expect(r.statusCode, r.body).toBe(201);
      const run = await req('POST', `/api/v1/flows/${r.json().data.id as string}/run?wait=true`, { input: {} });
      expect(run.statusCode, run.body).toBe(200);
      const ex = run.json().data;
      expect(ex).toMatchObject({ status: 'succeeded', output: { path: 'error', code: 'HTTP_STATUS' } });
      const trace = (await req('GET', `/api/v1/executions/${ex.id as string}`)).json().data;
      const call = trace.nodes.find((n: { nodeId: string }) => n.nodeId === 'call');
      expect(call).toMatchObject({ status: 'failed', attempts: 3, error: { code: 'HTTP_STATUS' } });
      expect(call.logs.filter((l: { message: string }) => l.message.includes('retrying'))).toHaveLength(2);
      expect(trace.nodes.map((n: { nodeId: string }) => n.nodeId)).toEqual(['start', 'call', 'handled']);
    });

    it('fails the execution when a node fails with nothing wired to its error port', async () => {
      const r = await req('POST', '/api/v1/flows', {
        name: 'Down',
        nodes: [node('start', 'trigger.manual'), node('call', 'core.http', { url: `${apiUrl}/down` })],
        edges: [edge('start', 'call')],
      });
      const ex = (await req('POST', `/api/v1/flows/${r.json().data.id as string}/run?wait=true`, {})).json().data;
      expect(ex).toMatchObject({ status: 'failed', error: { nodeId: 'call', code: 'HTTP_STATUS' } });
    });

    it('continues on error when the node says so, and merges parallel branches', async () => {
      const r = await req('POST', '/api/v1/flows', {
        name: 'Parallel',
        nodes: [
          node('start', 'trigger.manual'),
          node('a', 'core.transform', { expression: '$input.x * 2' }),
          node('b', 'core.http', { url: `${apiUrl}/down` }, { settings: { onError: 'continue' } }),
          node('join', 'core.merge', { mode: 'all' }),
        ],
        edges: [edge('start', 'a'), edge('start', 'b'), edge('a', 'join'), edge('b', 'join')],
      });
      const ex = (await req('POST', `/api/v1/flows/${r.json().data.id as string}/run?wait=true`, { input: { x: 21 } })).json().data;
      expect(ex.status).toBe('succeeded');
      expect(ex.output[0]).toBe(42);
      expect(ex.output[1].error.code).toBe('HTTP_STATUS');
    });

    it('re-runs an execution from a node, reusing upstream outputs', async () => {
      const r = await req('POST', '/api/v1/flows', {
        name: 'Rerun',
        nodes: [
          node('start', 'trigger.manual'),
          node('first', 'core.transform', { expression: '$input.n + 1' }),
          node('second', 'core.transform', { expression: '$input * 10' }),
        ],
        edges: [edge('start', 'first'), edge('first', 'second')],
      });
      const ex = (await req('POST', `/api/v1/flows/${r.json().data.id as string}/run?wait=true`, { input: { n: 1 } })).json().data;
      expect(ex.output).toBe(20);
      const again = await req('POST', `/api/v1/executions/${ex.id as string}/rerun?wait=true`, { fromNodeId: 'second' });
      expect(again.statusCode, again.body).toBe(200);
      expect(again.json().data).toMatchObject({ status: 'succeeded', output: 20, parentId: ex.id, trigger: 'rerun' });
      const trace = (await req('GET', `/api/v1/executions/${again.json().data.id as string}`)).json().data;
      expect(trace.nodes.map((n: { nodeId: string }) => n.nodeId)).toEqual(['start', 'first', 'second']);
      const bad = await req('POST', `/api/v1/executions/${ex.id as string}/rerun`, { fromNodeId: 'nope' });
      expect(bad.json().error.code).toBe('EXECUTION_NOT_RERUNNABLE');
    });

    it('uses pinned data in manual runs', async () => {
      const r = await req('POST', '/api/v1/flows', {
        name: 'Pinned',
        nodes: [
          node('start', 'trigger.manual'),
          node('call', 'core.http', { url: `${apiUrl}/down` }, { pinned: { body: { cached: true } } }),
          node('out', 'core.output', { value: '{{ $input.body }}' }),
        ],
        edges: [edge('start', 'call'), edge('call', 'out')],
      });
      const ex = (await req('POST', `/api/v1/flows/${r.json().data.id as string}/run?wait=true`, {})).json().data;
      expect(ex).toMatchObject({ status: 'succeeded', output: { cached: true } });
    });

    it('fires a record trigger only for records matching its filter', async () => {
      await req('POST', '/api/v1/models', { name: 'alerts', fields: [{ name: 'message', type: 'string' }] });
      const r = await req('POST', '/api/v1/flows', {
        name: 'Big leads',
        nodes: [
          node('on', 'trigger.record', { model: 'leads', events: ['created'], filter: { amount: { gte: 1000 } } }),
          node('alert', 'data.create', { model: 'alerts', values: { message: '{{ "big lead " & $input.record.email }}' } }),
        ],
        edges: [edge('on', 'alert')],
      });
      const id = r.json().data.id as string;
      await req('PATCH', `/api/v1/flows/${id}`, { active: true });
      const finished = ended(id);
      await req('POST', '/api/v1/data/leads', { email: 'tiny@x.io', amount: 10 });
      await req('POST', '/api/v1/data/leads', { email: 'whale@x.io', amount: 5000 });
      expect((await finished).status).toBe('succeeded');
      expect((await req('GET', '/api/v1/data/alerts')).json().data.map((a: { message: string }) => a.message)).toEqual(['big lead whale@x.io']);
      const list = (await req('GET', `/api/v1/executions?flowId=${id}`)).json().data;
      expect(list).toHaveLength(1);
      expect(list[0]).toMatchObject({ trigger: 'record', status: 'succeeded' });
    });

    it('lets viewers read flows and executions but not change or run them', async () => {
      expect((await req('GET', `/api/v1/flows/${flowId}`, undefined, viewerKey)).statusCode).toBe(200);
      expect((await req('GET', '/api/v1/executions', undefined, viewerKey)).statusCode).toBe(200);
      expect((await req('POST', `/api/v1/flows/${flowId}/run`, {}, viewerKey)).statusCode).toBe(403);
      expect((await req('PATCH', `/api/v1/flows/${flowId}`, { name: 'x' }, viewerKey)).statusCode).toBe(403);
    });

    it('checks webhook auth: API keys of the flow’s organization only, and HMAC signatures (Stripe style)', async () => {
      const secret = (
        await h().request({
          method: 'POST',
          url: '/api/v1/secrets',
          token: ownerToken,
          body: { name: 'hook-secret', provider: 'generic', value: 'whsec_abc123', allowedHosts: [] },
        })
      ).json().data;
      const r = await req('POST', '/api/v1/flows', {
        name: 'Signed hooks',
        nodes: [
          node('keyed', 'trigger.webhook', { path: 'keyed', auth: 'apiKey', respond: 'whenFinished' }),
          node('signed', 'trigger.webhook', { path: 'signed', auth: 'hmac', respond: 'whenFinished', signature: { style: 'stripe', secretId: secret.id } }),
          node('out', 'core.output', { value: '{{ $input.body }}' }),
        ],
        edges: [edge('keyed', 'out'), edge('signed', 'out')],
        settings: {},
      });
      expect(r.statusCode, r.body).toBe(201);
      const id = r.json().data.id as string;
      await req('PATCH', `/api/v1/flows/${id}`, { active: true });
      const other = await signUp(h(), 'Other org');
      const otherKey = (await createApiKey(h(), other.token, 'admin')).key;
      const hook = (path: string, headers: Record<string, string>, payload = '{"n":1}') =>
        h().request({ method: 'POST', url: `/api/v1/hooks/${id}/${path}`, headers: { 'content-type': 'application/json', ...headers }, payload });
      expect((await hook('keyed', {})).statusCode).toBe(401);
      expect((await hook('keyed', { 'x-api-key': otherKey })).statusCode).toBe(401);
      const ok = await hook('keyed', { 'x-api-key': key });
      expect(ok.statusCode, ok.body).toBe(200);
      expect(ok.json()).toEqual({ n: 1 });
      const { createHmac } = await import('node:crypto');
      const t = Math.floor(Date.now() / 1000);
      const sig = createHmac('sha256', 'whsec_abc123').update(`${t}.{"n":2}`).digest('hex');
      expect((await hook('signed', { 'stripe-signature': `t=${t},v1=${sig}` }, '{"n":2}')).json()).toEqual({ n: 2 });
      const bad = await hook('signed', { 'stripe-signature': `t=${t},v1=${sig}` }, '{"n":3}');
      expect(bad.statusCode).toBe(401);
      expect(bad.json().error.code).toBe('WEBHOOK_UNAUTHORIZED');
      // The signature and the key never reach the execution record.
      const list = (await req('GET', `/api/v1/executions?flowId=${id}`)).json().data as { id: string }[];
      for (const x of list) {
        const trace = JSON.stringify((await req('GET', `/api/v1/executions/${x.id}`)).json());
        expect(trace).not.toContain(key);
        expect(trace).not.toContain('whsec_abc123');
        expect(trace).not.toContain('stripe-signature');
      }
    });

    it('takes any payload on webhooks but refuses malformed JSON and oversize bodies', async () => {
      const r = await req('POST', '/api/v1/flows', {
        name: 'Echo',
        nodes: [node('in', 'trigger.webhook', { path: 'echo', method: 'ANY', respond: 'whenFinished' }), node('out', 'core.output', { value: '{{ $input }}' })],
        edges: [edge('in', 'out')],
      });
      const id = r.json().data.id as string;
      await req('PATCH', `/api/v1/flows/${id}`, { active: true });
      const text = await h().request({ method: 'PUT', url: `/api/v1/hooks/${id}/echo?x=1`, headers: { 'content-type': 'text/plain' }, payload: 'hello' });
      expect(text.json()).toMatchObject({ method: 'PUT', path: 'echo', query: { x: '1' }, body: 'hello' });
      const form = await h().request({
        method: 'POST',
        url: `/api/v1/hooks/${id}/echo`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'a=1&b=two',
      });
      expect(form.json().body).toEqual({ a: '1', b: 'two' });
      const broken = await h().request({ method: 'POST', url: `/api/v1/hooks/${id}/echo`, headers: { 'content-type': 'application/json' }, payload: '{"a":' });
      expect(broken.statusCode).toBe(400);
      expect(broken.json().error.code).toBeTypeOf('string');
      const huge = await h().request({
        method: 'POST',
        url: `/api/v1/hooks/${id}/echo`,
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ x: 'y'.repeat(2_000_000) }),
      });
      expect(huge.statusCode).toBe(413);
      // PostgreSQL cannot store U+0000: refused at the door with where it was, never a 500 from the database.
      const runs = (await req('GET', `/api/v1/executions?flowId=${id}`)).json().data.length as number;
      const cases = [
        ['application/json', '{"a":"x\\u0000y"}', 'nul_character'],
        ['text/plain', 'x\u0000y', 'nul_character'],
        ['application/x-www-form-urlencoded', 'a=x%00y', 'nul_character'],
        ['application/json', '{"a":"x\\ud800y"}', 'invalid_unicode'],
      ] as const;
      for (const [type, payload, code] of cases) {
        const bad = await h().request({ method: 'POST', url: `/api/v1/hooks/${id}/echo`, headers: { 'content-type': type }, payload });
        expect(bad.statusCode, `${type}: ${bad.body}`).toBe(400);
        expect(bad.json().error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ code }] });
      }
      expect((await req('GET', `/api/v1/executions?flowId=${id}`)).json().data).toHaveLength(runs);
      // A surrogate pair (an emoji) is text like any other.
      expect(
        (
          await h().request({
            method: 'POST',
            url: `/api/v1/hooks/${id}/echo`,
            headers: { 'content-type': 'application/json' },
            payload: '{"a":"\\ud83d\\ude00"}',
          })
        ).json().body,
      ).toEqual({ a: '😀' });
      expect((await h().request({ method: 'POST', url: `/api/v1/hooks/${id}/nope`, body: {} })).statusCode).toBe(404);
    });

    it('publishes a flow at /run/{slug}: API-key access by default, public only by owners, consumer data optional', async () => {
      const r = await req('POST', '/api/v1/flows', {
        name: 'Greeter',
        nodes: [
          node('in', 'core.input', { schema: { type: 'object', required: ['name'] } }),
          node('out', 'core.output', { value: '{{ { "greeting": "Hello " & $input.name } }}' }),
        ],
        edges: [edge('in', 'out')],
      });
      const id = r.json().data.id as string;
      expect((await req('POST', `/api/v1/flows/${id}/publish`, { slug: 'greeter', access: 'public' })).json().error.code).toBe('FLOW_PUBLIC_OWNER_ONLY');
      expect((await req('POST', `/api/v1/flows/${id}/publish`, { slug: 'greeter', access: 'apiKey', storeConsumerData: false })).statusCode).toBe(200);
      expect((await h().request({ method: 'POST', url: '/api/v1/run/greeter', body: { name: 'Ada' } })).statusCode).toBe(401);
      const run = await h().request({ method: 'POST', url: '/api/v1/run/greeter', apiKey: key, body: { name: 'Ada' } });
      expect(run.statusCode, run.body).toBe(200);
      expect(run.json()).toEqual({ data: { greeting: 'Hello Ada' } });
      const missing = await h().request({ method: 'POST', url: '/api/v1/run/greeter', apiKey: key, body: {} });
      expect(missing.statusCode).toBe(422);
      expect(missing.json().error).toMatchObject({ code: 'FLOW_INPUT_INVALID', details: [{ field: 'name' }] });
      const trace = (await req('GET', `/api/v1/executions/${run.headers['x-execution-id'] as string}`)).json().data;
      expect(trace).toMatchObject({ status: 'succeeded', input: null, output: null });
      expect(trace.nodes.every((n: { input: unknown; output: unknown }) => n.input === null && n.output === null)).toBe(true);
      expect((await h().request({ method: 'POST', url: '/api/v1/run/nope', apiKey: key, body: {} })).statusCode).toBe(404);
    });

    it('regression (#25: "Hello " through /run, "Hello Grace" through the webhook): a webhook-triggered flow gets the same input through its URL and its published endpoint', async () => {
      const r = await req('POST', '/api/v1/flows', {
        name: 'Greet by webhook',
        nodes: [
          node('hook', 'trigger.webhook', { path: 'greet', respond: 'whenFinished' }),
          node('reply', 'core.respond', {
            body: '{{ { "greeting": "Hello " & $input.body.name, "method": $input.method, "path": $input.path, "x": $input.query.x, "trace": $lookup($input.headers, "x-trace"), "signed": $exists($lookup($input.headers, "x-signature")) } }}',
          }),
        ],
        edges: [edge('hook', 'reply')],
      });
      const id = r.json().data.id as string;
      await req('PATCH', `/api/v1/flows/${id}`, { active: true });
      expect(
        (await h().request({ method: 'POST', url: `/api/v1/flows/${id}/publish`, token: ownerToken, body: { slug: 'greet-hook', access: 'public' } }))
          .statusCode,
      ).toBe(200);
      const headers = { 'x-trace': 't-1', 'x-signature': 'never stored' };
      const viaHook = await h().request({ method: 'POST', url: `/api/v1/hooks/${id}/greet?x=1`, body: { name: 'Grace' }, headers });
      const viaRun = await h().request({ method: 'POST', url: '/api/v1/run/greet-hook?x=1', body: { name: 'Grace' }, headers });
      expect(viaHook.statusCode, viaHook.body).toBe(200);
      expect(viaRun.statusCode, viaRun.body).toBe(200);
      const want = { greeting: 'Hello Grace', method: 'POST', path: 'greet', x: '1', trace: 't-1', signed: false };
      expect(viaHook.json()).toEqual(want);
      expect(viaRun.json()).toEqual({ data: want });
    });

    it('regression (#25: bad consumer input answered 502 with node internals): a published flow checks its input first (422, input fields only) and tells outsiders no internals', async () => {
      const r = await req('POST', '/api/v1/flows', {
        name: 'Strict greeter',
        nodes: [
          node('in', 'core.input', {
            schema: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1 }, age: { type: 'integer' } } },
          }),
          node('work', 'core.code', {
            source: 'if ($input.name === "boom") throw new Error("internal detail: table secret_x"); return { greeting: "Hello " + $input.name }',
          }),
        ],
        edges: [edge('in', 'work')],
      });
      const id = r.json().data.id as string;
      expect(
        (await h().request({ method: 'POST', url: `/api/v1/flows/${id}/publish`, token: ownerToken, body: { slug: 'strict-greeter', access: 'public' } }))
          .statusCode,
      ).toBe(200);
      const runs = async () => (await h().db.pool.query(`select 1 from executions where flow_id = $1`, [id])).rows.length;
      const bad = await h().request({ method: 'POST', url: '/api/v1/run/strict-greeter', body: { age: 'old' } });
      expect(bad.statusCode).toBe(422);
      expect(bad.json().error).toMatchObject({ code: 'FLOW_INPUT_INVALID' });
      expect(
        bad
          .json()
          .error.details.map((d: { field: string }) => d.field)
          .sort(),
      ).toEqual(['age', 'name']);
      expect(bad.body).not.toMatch(/work|core\.code|nodeId/);
      expect(await runs()).toBe(0);
      const ok = await h().request({ method: 'POST', url: '/api/v1/run/strict-greeter', body: { name: 'Grace' } });
      expect(ok.json()).toEqual({ data: { greeting: 'Hello Grace' } });
      const boom = await h().request({ method: 'POST', url: '/api/v1/run/strict-greeter', body: { name: 'boom' } });
      expect(boom.statusCode).toBe(502);
      expect(boom.json().error).toEqual({
        code: 'EXECUTION_FAILED',
        message: expect.stringContaining('execution id'),
        details: { executionId: expect.any(String) },
        requestId: expect.any(String),
      });
      expect(boom.body).not.toMatch(/internal detail|secret_x|work|CODE_FAILED/);
      // The flow's own organization sees what failed.
      const inside = await h().request({ method: 'POST', url: '/api/v1/run/strict-greeter', apiKey: key, body: { name: 'boom' } });
      expect(inside.json().error.details.error).toMatchObject({ nodeId: 'work', code: 'CODE_FAILED' });
    });

    it('cancels a queued execution', async () => {
      const r = await req('POST', '/api/v1/flows?template=blank', { name: 'To cancel' });
      const queued = await req('POST', `/api/v1/flows/${r.json().data.id as string}/run`, { input: {} });
      expect(queued.statusCode).toBe(202);
      const id = queued.json().data.id as string;
      const c = await req('POST', `/api/v1/executions/${id}/cancel`);
      // The worker may have been faster: then it is finished and cannot be canceled.
      if (c.statusCode === 200) expect(c.json().data.status).toBe('canceled');
      else expect(c.json().error.code).toBe('EXECUTION_NOT_CANCELABLE');
      const again = await req('POST', `/api/v1/executions/${id}/cancel`);
      expect(again.json().error.code).toBe('EXECUTION_NOT_CANCELABLE');
    });

    it('runs user code in the sandbox; hostile code fails the node and the server keeps serving', async () => {
      const make = async (source: string) =>
        (
          await req('POST', '/api/v1/flows', {
            name: `code ${source.slice(0, 20)}`,
            nodes: [node('s', 'trigger.manual'), node('c', 'core.code', { source, timeoutMs: 200 })],
            edges: [edge('s', 'c')],
          })
        ).json().data.id as string;
      const good = await make('console.log("items", $input.items.length); return { total: $input.items.reduce((a, b) => a + b, 0) }');
      const ok = (await req('POST', `/api/v1/flows/${good}/run?wait=true`, { input: { items: [1, 2, 3] } })).json().data;
      expect(ok).toMatchObject({ status: 'succeeded', output: { total: 6 } });
      const trace = (await req('GET', `/api/v1/executions/${ok.id as string}`)).json().data;
      expect(trace.nodes[1].logs[0].message).toBe('items 3');
      for (const bad of ['while (true) {}', 'return process.env', 'let s = "x"; for (;;) s += s']) {
        const ex = (await req('POST', `/api/v1/flows/${await make(bad)}/run?wait=true`, { input: {} })).json().data;
        expect(ex.status, bad).toBe('failed');
        expect(ex.error.code, bad).toMatch(/^CODE_(LIMIT|FAILED)$/);
      }
      expect((await h().request({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
    });

    it('loops over items with bounded concurrency and collects results in order; a failing item stops the loop', async () => {
      const r = await req('POST', '/api/v1/flows', {
        name: 'Loop',
        nodes: [
          node('start', 'trigger.manual'),
          node('each', 'core.loop', { items: '{{ $input.rows }}', concurrency: 4 }),
          node('check', 'core.if', { condition: '{{ $input.n >= 0 }}' }),
          node('square', 'core.transform', { expression: '{ "n": $input.n, "sq": $input.n * $input.n, "tag": $node["start"].output.tag }' }),
          node('bad', 'core.code', { source: 'throw new Error("negative " + $input.n)' }),
          node('total', 'core.transform', { expression: '{ "count": $count($input), "sum": $sum($input.sq), "first": $input[0] }' }),
        ],
        edges: [
          edge('start', 'each'),
          edge('each', 'check', 'item'),
          edge('check', 'square', 'true'),
          edge('check', 'bad', 'false'),
          { id: 'back', source: 'square', sourceHandle: 'main', target: 'each', targetHandle: 'return' },
          edge('each', 'total', 'done'),
        ],
      });
      expect(r.statusCode, r.body).toBe(201);
      const id = r.json().data.id as string;
      const rows = Array.from({ length: 200 }, (_, i) => ({ n: i }));
      const ok = (await req('POST', `/api/v1/flows/${id}/run?wait=true`, { input: { rows, tag: 't1' } })).json().data;
      expect(ok).toMatchObject({ status: 'succeeded', output: { count: 200, sum: 2646700, first: { n: 0, sq: 0, tag: 't1' } } });
      const trace = (await req('GET', `/api/v1/executions/${ok.id as string}`)).json().data;
      expect(trace.nodes.map((x: { nodeId: string }) => x.nodeId)).toEqual(['start', 'each', 'total']);
      expect(trace.nodes[1].logs[0].message).toBe('200 item(s) done, 4 at a time');
      const bad = (await req('POST', `/api/v1/flows/${id}/run?wait=true`, { input: { rows: [{ n: 1 }, { n: -5 }] } })).json().data;
      expect(bad).toMatchObject({ status: 'failed', error: { nodeId: 'each', code: 'LOOP_ITEM_FAILED', details: { index: 1, error: { nodeId: 'bad' } } } });
    });

    it('runs a sub-flow and uses its output; a flow calling itself stops at the nesting limit', async () => {
      const child = (
        await req('POST', '/api/v1/flows', {
          name: 'Child',
          nodes: [node('in', 'core.input'), node('x', 'core.transform', { expression: '{ "greeting": "hi " & $input.name }' })],
          edges: [edge('in', 'x')],
        })
      ).json().data.id as string;
      const parent = (
        await req('POST', '/api/v1/flows', {
          name: 'Parent',
          nodes: [node('s', 'trigger.manual'), node('call', 'core.subflow', { flowId: child }), node('out', 'core.output', { value: '{{ $input.greeting }}' })],
          edges: [edge('s', 'call'), edge('call', 'out')],
        })
      ).json().data.id as string;
      const ex = (await req('POST', `/api/v1/flows/${parent}/run?wait=true`, { input: { name: 'Ada' } })).json().data;
      expect(ex).toMatchObject({ status: 'succeeded', output: 'hi Ada' });
      const kids = (await req('GET', `/api/v1/executions?flowId=${child}`)).json().data;
      expect(kids[0]).toMatchObject({ trigger: 'subflow', parentId: ex.id, status: 'succeeded' });
      const selfRef = (await req('POST', '/api/v1/flows', { name: 'Ouroboros', nodes: [node('s', 'trigger.manual')], edges: [] })).json().data.id as string;
      await req('PUT', `/api/v1/flows/${selfRef}`, {
        name: 'Ouroboros',
        nodes: [node('s', 'trigger.manual'), node('again', 'core.subflow', { flowId: selfRef })],
        edges: [edge('s', 'again')],
      });
      const deep = (await req('POST', `/api/v1/flows/${selfRef}/run?wait=true`, { input: {} })).json().data;
      expect(deep.status).toBe('failed');
      expect(JSON.stringify(deep.error)).toContain('SUBFLOW_TOO_DEEP');
    });

    it('waits: short waits in place; webhook waits park the execution until its resume URL is called, or time out', async () => {
      const short = (
        await req('POST', '/api/v1/flows', {
          name: 'Short wait',
          nodes: [node('s', 'trigger.manual'), node('w', 'core.wait', { seconds: 0.05 }), node('o', 'core.output')],
          edges: [edge('s', 'w'), edge('w', 'o')],
        })
      ).json().data.id as string;
      expect((await req('POST', `/api/v1/flows/${short}/run?wait=true`, { input: { a: 1 } })).json().data).toMatchObject({
        status: 'succeeded',
        output: { a: 1 },
      });

      const approval = (
        await req('POST', '/api/v1/flows', {
          name: 'Approval',
          nodes: [
            node('s', 'trigger.manual'),
            node('ask', 'core.set', { values: { approveAt: '{{ $execution.resumeUrl }}' } }),
            node('w', 'core.wait', { mode: 'webhook', timeoutSeconds: 3600 }),
            node('o', 'core.output', { value: '{{ { "decision": $input.decision, "asked": $node["ask"].output.approveAt != null } }}' }),
          ],
          edges: [edge('s', 'ask'), edge('ask', 'w'), edge('w', 'o')],
        })
      ).json().data.id as string;
      const parked = (await req('POST', `/api/v1/flows/${approval}/run?wait=true`, { input: {} })).json().data;
      expect(parked.status).toBe('waiting');
      const trace = (await req('GET', `/api/v1/executions/${parked.id as string}`)).json().data;
      const url = new URL(trace.nodes.find((n: { nodeId: string }) => n.nodeId === 'ask').output.main.approveAt as string);
      expect(url.pathname).toBe(`/api/v1/executions/${parked.id as string}/resume`);
      expect((await h().request({ method: 'POST', url: `${url.pathname}?token=${'x'.repeat(43)}`, body: { decision: 'no' } })).statusCode).toBe(404);
      const resumed = await h().request({ method: 'POST', url: `${url.pathname}${url.search}`, body: { decision: 'yes' } });
      expect(resumed.statusCode, resumed.body).toBe(202);
      const done = await h().built.runner.wait(parked.id as string, 20_000);
      expect(done).toMatchObject({ status: 'succeeded', output: { decision: 'yes', asked: true } });
      expect((await h().request({ method: 'POST', url: `${url.pathname}${url.search}`, body: {} })).json().error.code).toBe('EXECUTION_NOT_WAITING');

      const timesOut = (
        await req('POST', '/api/v1/flows', {
          name: 'Unanswered',
          nodes: [
            node('s', 'trigger.manual'),
            node('w', 'core.wait', { mode: 'webhook', timeoutSeconds: 1 }),
            node('late', 'core.set', { values: { late: true } }),
          ],
          edges: [edge('s', 'w'), edge('w', 'late', 'timeout')],
        })
      ).json().data.id as string;
      const t = (await req('POST', `/api/v1/flows/${timesOut}/run?wait=true`, { input: { x: 1 } })).json().data;
      expect(t.status).toBe('waiting');
      expect(await h().built.runner.wait(t.id as string, 20_000)).toMatchObject({ status: 'succeeded', output: { x: 1, late: true } });
    });

    it('times out a whole execution, and runs the error flow of a failed one', async () => {
      const slow = (
        await req('POST', '/api/v1/flows', {
          name: 'Slow',
          nodes: [node('s', 'trigger.manual'), node('w', 'core.wait', { seconds: 3 })],
          edges: [edge('s', 'w')],
          settings: { timeoutMs: 100 },
        })
      ).json().data.id as string;
      expect((await req('POST', `/api/v1/flows/${slow}/run?wait=true`, { input: {} })).json().data).toMatchObject({
        status: 'failed',
        error: { code: 'EXECUTION_TIMEOUT' },
      });

      const handler = (
        await req('POST', '/api/v1/flows', {
          name: 'On error',
          nodes: [node('s', 'trigger.manual'), node('o', 'core.output', { value: '{{ $input.error.code }}' })],
          edges: [edge('s', 'o')],
        })
      ).json().data.id as string;
      const failing = (
        await req('POST', '/api/v1/flows', {
          name: 'Fails',
          nodes: [node('s', 'trigger.manual'), node('c', 'core.http', { url: `${apiUrl}/down` })],
          edges: [edge('s', 'c')],
          settings: { errorFlowId: handler },
        })
      ).json().data.id as string;
      const handled = ended(handler);
      const failed = (await req('POST', `/api/v1/flows/${failing}/run?wait=true`, { input: {} })).json().data;
      expect(failed.status).toBe('failed');
      const ex = (await req('GET', `/api/v1/executions/${(await handled).executionId}`)).json().data;
      expect(ex).toMatchObject({ trigger: 'error', parentId: failed.id, status: 'succeeded', output: 'HTTP_STATUS' });
    });

    it('rate limits public flow endpoints per address, in the error format', async () => {
      const url = '/api/v1/run/no-such-flow';
      let last = await h().request({ method: 'POST', url, body: {} });
      expect(last.headers['ratelimit-limit']).toBe('1000');
      for (let i = 0; i < 1000 && last.statusCode !== 429; i++) last = await h().request({ method: 'POST', url, body: {} });
      expect(last.statusCode).toBe(429);
      expect(last.json().error.code).toBe('RATE_LIMITED');
      expect(Number(last.headers['retry-after'])).toBeGreaterThan(0);
    });

    it('prunes finished executions past the retention (a flow’s own setting wins), never running ones', async () => {
      const mk = async (retentionDays?: number) =>
        (
          await req('POST', '/api/v1/flows', {
            name: `kept ${retentionDays ?? 'default'}`,
            nodes: [node('s', 'trigger.manual')],
            edges: [],
            settings: retentionDays ? { retentionDays } : {},
          })
        ).json().data.id as string;
      const short = await mk(1);
      const long = await mk(365);
      const ids: Record<string, string> = {};
      for (const [k, f] of [
        ['short', short],
        ['long', long],
      ] as const)
        ids[k] = (await req('POST', `/api/v1/flows/${f}/run?wait=true`, { input: {} })).json().data.id as string;
      const queued = (await req('POST', `/api/v1/flows/${short}/run`, { input: {} })).json().data.id as string;
      await h().db.pool.query(`update executions set created_at = now() - interval '40 days' where id = any($1::uuid[])`, [[ids.short, ids.long, queued]]);
      await h().db.pool.query(`update executions set status = 'queued', run_at = now() + interval '1 day' where id = $1`, [queued]);
      const pruned = await pruneExecutions(h().db.kysely, 30);
      expect(pruned).toBeGreaterThanOrEqual(1);
      expect((await req('GET', `/api/v1/executions/${ids.short!}`)).statusCode).toBe(404);
      expect((await req('GET', `/api/v1/executions/${ids.long!}`)).statusCode).toBe(200);
      expect((await req('GET', `/api/v1/executions/${queued}`)).statusCode).toBe(200);
    });

    /** Polls an execution until it has finished (a condition, not a fixed sleep). */
    const finished = async (id: string) => {
      for (let i = 0; i < 600; i++) {
        const e = (await req('GET', `/api/v1/executions/${id}`)).json().data as {
          status: string;
          error: { code: string; message: string } | null;
          nodes: { nodeId: string; logs: { message: string }[]; output: Record<string, unknown> | null; attempts: number }[];
        };
        if (['succeeded', 'failed', 'canceled'].includes(e.status)) return e;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`execution ${id} did not finish`);
    };
    /** Makes a finished execution look like one whose worker died mid-run: running, lease lapsed. */
    const crashed = async (id: string, keepNodes: string[]) => {
      await h().db.pool.query(
        `update executions set status = 'running', lease_owner = 'dead-worker', lease_until = now() - interval '1 minute', finished_at = null, output = null where id = $1`,
        [id],
      );
      await h().db.pool.query(`delete from node_runs where execution_id = $1 and not (node_id = any($2::text[]))`, [id, keepNodes]);
    };

    it('regression (#25): retries on a code node were silently ignored — they retry like any node', async () => {
      const r = await req('POST', '/api/v1/flows', {
        name: 'Flaky code',
        nodes: [node('s', 'trigger.manual'), node('c', 'core.code', { source: 'throw new Error("not yet")' }, { settings: { retries: 2, retryDelayMs: 1 } })],
        edges: [edge('s', 'c')],
      });
      expect(r.statusCode, r.body).toBe(201);
      const ex = (await req('POST', `/api/v1/flows/${r.json().data.id as string}/run?wait=true`, { input: {} })).json().data;
      expect(ex).toMatchObject({ status: 'failed', error: { code: 'CODE_FAILED' } });
      const c = (await req('GET', `/api/v1/executions/${ex.id as string}`)).json().data.nodes.find((n: { nodeId: string }) => n.nodeId === 'c');
      expect(c.attempts).toBe(3);
      expect(c.logs.filter((l: { message: string }) => l.message.includes('retrying'))).toHaveLength(2);
    });

    it('regression (#25): data.query dropped its offset on the server', async () => {
      expect((await req('POST', '/api/v1/models', { name: 'numbers', fields: [{ name: 'n', type: 'integer' }] })).statusCode).toBe(201);
      for (let n = 0; n < 5; n++) await req('POST', '/api/v1/data/numbers', { n });
      const r = await req('POST', '/api/v1/flows', {
        name: 'Page',
        nodes: [node('s', 'trigger.manual'), node('q', 'data.query', { model: 'numbers', sort: 'n', limit: 2, offset: 2 })],
        edges: [edge('s', 'q')],
      });
      expect(r.statusCode, r.body).toBe(201);
      const ex = (await req('POST', `/api/v1/flows/${r.json().data.id as string}/run?wait=true`, { input: {} })).json().data;
      expect(ex.status).toBe('succeeded');
      expect(ex.output.items.map((x: { n: number }) => x.n)).toEqual([2, 3]);
    });

    it('regression (#25: a resumed loop ran again from item 0, 10 duplicates): data writes are applied once per execution, node and item; a resume continues after the last checkpointed item', async () => {
      expect((await req('POST', '/api/v1/models', { name: 'tickets', fields: [{ name: 'n', type: 'integer' }] })).statusCode).toBe(201);
      const r = await req('POST', '/api/v1/flows', {
        name: 'Create per item',
        nodes: [
          node('start', 'trigger.manual'),
          node('each', 'core.loop', { items: '{{ $input.rows }}', concurrency: 3 }),
          node('save', 'data.create', { model: 'tickets', values: { n: '{{ $input }}' } }),
          node('count', 'core.transform', { expression: '$count($input)' }),
        ],
        edges: [
          edge('start', 'each'),
          edge('each', 'save', 'item'),
          { id: 'back', source: 'save', sourceHandle: 'main', target: 'each', targetHandle: 'return' },
          edge('each', 'count', 'done'),
        ],
      });
      expect(r.statusCode, r.body).toBe(201);
      const ex = (await req('POST', `/api/v1/flows/${r.json().data.id as string}/run?wait=true`, { input: { rows: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] } })).json()
        .data;
      expect(ex).toMatchObject({ status: 'succeeded', output: 10 });
      const count = async () =>
        (await h().db.pool.query<{ n: number }>(`select count(*)::int as n from flow_effects where execution_id = $1`, [ex.id])).rows[0]!.n;
      const records = async () => ((await req('GET', '/api/v1/data/tickets?limit=100')).json().data as { n: number }[]).map((x) => x.n).sort((a, b) => a - b);
      expect(await records()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      // Checkpoints are dropped once the execution has finished (the loop's run carries the results).
      expect((await h().db.pool.query(`select 1 from loop_items where execution_id = $1`, [ex.id])).rows).toHaveLength(0);

      // Its worker died after every write but before any checkpoint: the whole loop runs again, no record is written twice.
      await crashed(ex.id as string, ['start']);
      const again = await finished(ex.id as string);
      expect(again.status).toBe('succeeded');
      expect(await records()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(await count()).toBe(10);
      // Died after items 0-5 were checkpointed: the resume continues with item 6. (The checkpoints
      // are written before the execution is made claimable again, once the finish has dropped its own.)
      for (let i = 0; i < 100 && (await h().db.pool.query(`select 1 from loop_items where execution_id = $1`, [ex.id])).rows.length; i++)
        await new Promise((r) => setTimeout(r, 20));
      for (let i = 0; i < 6; i++)
        await h().db.pool.query(
          `insert into loop_items (execution_id, node_id, item, result) select $1, 'each', $2, result from flow_effects where execution_id = $1 and key = $3`,
          [ex.id, String(i), `${ex.id as string}:save:${i}`],
        );
      await crashed(ex.id as string, ['start']);
      const resumed = await finished(ex.id as string);
      expect(resumed.status).toBe('succeeded');
      const loop = resumed.nodes.find((n) => n.nodeId === 'each')!;
      expect(loop.logs[0]!.message).toBe('10 item(s) done, 3 at a time (6 completed before the resume)');
      expect((loop.output!.done as { n: number }[]).map((x) => x.n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(await records()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(await count()).toBe(10);
    });

    it('regression (#25: a run that crashes its worker was claimed forever): a takeover past the cap fails the execution with a clear error', async () => {
      const r = await req('POST', '/api/v1/flows', {
        name: 'Crash looping',
        nodes: [node('s', 'trigger.manual'), node('out', 'core.set', { values: { ok: true } })],
        edges: [edge('s', 'out')],
      });
      const flow = (
        await h().db.pool.query<{ id: string; org_id: string; version: number }>(`select id, org_id, version from flows where id = $1`, [r.json().data.id])
      ).rows[0]!;
      const orphan = async (reclaims: number) => {
        const id = crypto.randomUUID();
        await h().db.pool.query(
          `insert into executions (id, org_id, flow_id, flow_version, status, trigger, input, lease_owner, lease_until, claims, reclaims, started_at)
           values ($1, $2, $3, $4, 'running', 'manual', '{}'::jsonb, 'dead-worker', now() - interval '1 minute', $5, $6, now())`,
          [id, flow.org_id, flow.id, flow.version, reclaims + 1, reclaims],
        );
        return id;
      };
      // Taken over 3 times already (the limit, INFINITY_EXECUTION_MAX_RECLAIMS): failed, not claimed again.
      const looping = await orphan(3);
      // Taken over twice: claimed once more, and it finishes.
      const survivor = await orphan(2);
      const dead = await finished(looping);
      expect(dead.status).toBe('failed');
      expect(dead.error).toMatchObject({ code: 'EXECUTION_CRASHED_TOO_OFTEN', message: expect.stringContaining('taken over 3 time(s)') });
      expect((await finished(survivor)).status).toBe('succeeded');
      expect((await h().db.pool.query(`select reclaims from executions where id = $1`, [survivor])).rows[0]).toEqual({ reclaims: 3 });
    });

    it('lists every node type with its parameter JSON Schema', async () => {
      const types = (await req('GET', '/api/v1/node-types')).json().data as {
        type: string;
        outputs: string[];
        params: { properties?: Record<string, unknown> };
      }[];
      const byType = Object.fromEntries(types.map((t) => [t.type, t]));
      for (const t of [
        'trigger.manual',
        'trigger.webhook',
        'trigger.schedule',
        'trigger.record',
        'core.transform',
        'core.if',
        'core.switch',
        'core.merge',
        'core.http',
        'core.respond',
        'data.query',
        'data.create',
        'data.action',
      ])
        expect(byType[t], t).toBeDefined();
      expect(byType['core.if']!.outputs).toEqual(['true', 'false']);
      expect(byType['core.http']!.params.properties).toHaveProperty('url');
    });
  },
  { INFINITY_HTTP_ALLOW: '127.0.0.1/32', INFINITY_QUEUE_POLL: '100', INFINITY_PUBLIC_RATE_LIMIT: '1000' },
);
