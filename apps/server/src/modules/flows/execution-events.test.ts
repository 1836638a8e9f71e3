import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DomainEvent } from '@infinity/contracts';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApiKey, signUp } from '../../platform/testing/actors.js';
import { describeEachDb } from '../../platform/testing/harness.js';

const TYPES = ['execution.queued', 'execution.node.started', 'execution.node.finished', 'execution.succeeded', 'execution.failed'] as const;
type ExecutionEvent = Extract<DomainEvent, { type: (typeof TYPES)[number] }>;

const node = (id: string, type: string, params: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
  id,
  type,
  name: id,
  position: { x: 0, y: 0 },
  params,
  ...extra,
});
const edge = (source: string, target: string, sourceHandle = 'main') => ({ id: `${source}-${target}`, source, sourceHandle, target, targetHandle: 'main' });

/** An outside API that echoes the Authorization header it was sent. */
const echo = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ authorization: req.headers.authorization ?? null })));
});
let echoUrl = '';
beforeAll(() => new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => ((echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`), r()))));
afterAll(() => new Promise<void>((r) => echo.close(() => r())));
const SECRET = 'sk-events-never-carry-this-9f2c';

/** One line per event, so a whole stream compares at a glance. */
const line = (e: ExecutionEvent) =>
  'nodeId' in e ? `${e.type.slice(15)} ${e.nodeId}${e.type === 'execution.node.finished' ? ` ${e.status}` : ''}` : e.type.slice(10);

describeEachDb(
  'execution events',
  (h) => {
    let key: string;
    let ownerToken: string;
    const req = (method: string, url: string, body?: unknown) => h().request({ method, url, apiKey: key, body });
    const flow = async (name: string, nodes: unknown[], edges: unknown[]) => {
      const r = await req('POST', '/api/v1/flows', { name, nodes, edges });
      expect(r.statusCode, r.body).toBe(201);
      return r.json().data.id as string;
    };
    /**
     * Every execution event of the flow's executions, as they arrive; `ended` resolves at the
     * `count`-th end (succeeded or failed).
     */
    const watch = (flowId: string, count = 1) => {
      const events: ExecutionEvent[] = [];
      let ends = 0;
      let done: () => void = () => undefined;
      const ended = new Promise<void>((r) => (done = r));
      const offs = TYPES.map((type) =>
        h().built.events.subscribe(type, (e: ExecutionEvent) => {
          if (e.flowId !== flowId) return;
          events.push(e);
          if ((e.type === 'execution.succeeded' || e.type === 'execution.failed') && ++ends === count) {
            for (const off of offs) off();
            done();
          }
        }),
      );
      return { events, ended, lines: () => events.map(line) };
    };

    beforeAll(async () => {
      const u = await signUp(h());
      ownerToken = u.token;
      key = (await createApiKey(h(), u.token, 'editor')).key;
    });

    const chain = [node('s', 'trigger.manual'), node('set', 'core.set', { values: { doubled: '{{ $input.n * 2 }}' } }), node('out', 'core.output')];
    const chainEdges = [edge('s', 'set'), edge('set', 'out')];
    const inOrder = [
      'queued',
      'started s',
      'finished s succeeded',
      'started set',
      'finished set succeeded',
      'started out',
      'finished out succeeded',
      'succeeded',
    ];

    it('a queued run: queued → each node started and finished → succeeded, one execution throughout', async () => {
      const id = await flow('Queued', chain, chainEdges);
      const w = watch(id);
      const r = await req('POST', `/api/v1/flows/${id}/run`, { input: { n: 2 } });
      expect(r.statusCode, r.body).toBe(202);
      await w.ended;
      expect(w.lines()).toEqual(inOrder);
      expect(new Set(w.events.map((e) => e.executionId))).toEqual(new Set([r.json().data.id]));
      expect(w.events[0]).toMatchObject({ type: 'execution.queued', trigger: 'manual', permission: 'executions:read', orgId: expect.any(String) });
      // The end is told after its commit: the execution reads as finished by then.
      expect((await req('GET', `/api/v1/executions/${r.json().data.id as string}`)).json().data.status).toBe('succeeded');
    });

    it('an inline run (fast path, a flow with effects): the same stream, written first as running', async () => {
      const id = await flow(
        'Inline',
        [node('s', 'trigger.manual'), node('set', 'core.wait', { seconds: 0 }, { name: 'a wait: not pure' }), node('out', 'core.output')],
        [edge('s', 'set'), edge('set', 'out')],
      );
      const w = watch(id);
      const ex = (await req('POST', `/api/v1/flows/${id}/run?wait=true`, { input: { n: 2 } })).json().data;
      expect(ex).toMatchObject({ status: 'succeeded', claims: 1 });
      await w.ended;
      expect(w.lines()).toEqual(inOrder);
      expect(w.events.at(-1)).toMatchObject({ type: 'execution.succeeded', executionId: ex.id, durationMs: expect.any(Number) });
    });

    it('a pure run (written once, at its end): the same stream; node events carry status, duration, a bounded output and log lines', async () => {
      const big = { text: 'x'.repeat(5000) };
      const id = await flow('Pure', [...chain, node('big', 'core.set', {}, { pinned: big })], [...chainEdges, edge('s', 'big')]);
      const w = watch(id);
      const ex = (await req('POST', `/api/v1/flows/${id}/run?wait=true`, { input: { n: 2 } })).json().data;
      expect(ex.status).toBe('succeeded');
      await w.ended;
      // Two branches after the trigger: each node starts, then finishes, between queued and the end.
      expect(w.lines()[0]).toBe('queued');
      expect(w.lines().at(-1)).toBe('succeeded');
      expect(w.lines()).toHaveLength(2 + 2 * 4);
      for (const n of ['s', 'set', 'out', 'big']) {
        const i = w.lines().indexOf(`started ${n}`);
        expect(i, n).toBeGreaterThan(0);
        expect(w.lines().indexOf(`finished ${n} succeeded`), n).toBeGreaterThan(i);
      }
      const finished = (n: string) => w.events.find((e) => e.type === 'execution.node.finished' && e.nodeId === n);
      expect(finished('set')).toMatchObject({
        nodeType: 'core.set',
        status: 'succeeded',
        durationMs: expect.any(Number),
        outputSummary: { main: { n: 2, doubled: 4 } },
      });
      // 5,000 characters of output: summarized, not carried whole; pinned data (a manual run uses it) says so in the log.
      expect(finished('big')).toMatchObject({
        outputSummary: { $truncated: true, bytes: expect.any(Number), preview: expect.stringContaining('xxx') },
        logs: [{ level: 'info', message: 'used pinned data', at: expect.any(String) }],
      });
      expect(JSON.stringify(finished('big')).length).toBeLessThan(2500);
    });

    it('a failing run ends with execution.failed and the error, after the failed node says why (queued and pure)', async () => {
      const id = await flow(
        'Failing',
        [node('s', 'trigger.manual'), node('bad', 'core.code', { source: 'console.log("about to fail"); throw new Error("boom")' })],
        [edge('s', 'bad')],
      );
      const w = watch(id, 2);
      const queued = (await req('POST', `/api/v1/flows/${id}/run`, { input: {} })).json().data.id as string;
      const pure = (await req('POST', `/api/v1/flows/${id}/run?wait=true`, { input: {} })).json().data;
      expect(pure.status).toBe('failed');
      await w.ended;
      for (const executionId of [queued, pure.id as string]) {
        const mine = w.events.filter((e) => e.executionId === executionId);
        expect(mine.map(line)).toEqual(['queued', 'started s', 'finished s succeeded', 'started bad', 'finished bad failed', 'failed']);
        expect(mine[4]).toMatchObject({
          error: { code: 'CODE_FAILED', message: expect.stringContaining('boom') },
          logs: [{ level: 'info', message: 'about to fail' }],
        });
        expect(mine[5]).toMatchObject({ type: 'execution.failed', error: { code: 'CODE_FAILED', nodeId: 'bad', message: expect.stringContaining('boom') } });
      }
    });

    it('a run that waits: parked after the wait node starts, and on resume the wait node finishes and the rest follows', async () => {
      const id = await flow(
        'Approval',
        [
          node('s', 'trigger.manual'),
          node('ask', 'core.set', { values: { url: '{{ $execution.resumeUrl }}' } }),
          node('w', 'core.wait', { mode: 'webhook', timeoutSeconds: 3600 }),
          node('o', 'core.output', { value: '{{ $input.decision }}' }),
        ],
        [edge('s', 'ask'), edge('ask', 'w'), edge('w', 'o')],
      );
      const w = watch(id);
      const parked = (await req('POST', `/api/v1/flows/${id}/run?wait=true`, { input: {} })).json().data;
      expect(parked.status).toBe('waiting');
      expect(w.lines()).toEqual(['queued', 'started s', 'finished s succeeded', 'started ask', 'finished ask succeeded', 'started w']);
      const trace = (await req('GET', `/api/v1/executions/${parked.id as string}`)).json().data;
      const url = new URL(trace.nodes.find((n: { nodeId: string }) => n.nodeId === 'ask').output.main.url as string);
      expect((await h().request({ method: 'POST', url: `${url.pathname}${url.search}`, body: { decision: 'yes' } })).statusCode).toBe(202);
      await w.ended;
      expect(w.lines().slice(6)).toEqual(['finished w succeeded', 'started o', 'finished o succeeded', 'succeeded']);
      expect(new Set(w.events.map((e) => e.executionId))).toEqual(new Set([parked.id]));
      expect(w.events.find((e) => e.type === 'execution.node.finished' && e.nodeId === 'w')).toMatchObject({ outputSummary: { main: { decision: 'yes' } } });
    });

    it('masks in node events the secrets a run used, as in its stored node runs', async () => {
      const secret = await h().request({
        method: 'POST',
        url: '/api/v1/secrets',
        token: ownerToken,
        body: { name: 'echo api', provider: 'generic', value: SECRET, allowedHosts: ['127.0.0.1'] },
      });
      expect(secret.statusCode, secret.body).toBe(201);
      const id = await flow(
        'Secret',
        [node('s', 'trigger.manual'), node('call', 'core.http', { url: `${echoUrl}/x`, secretId: secret.json().data.id, authType: 'bearer' })],
        [edge('s', 'call')],
      );
      const w = watch(id);
      const ex = (await req('POST', `/api/v1/flows/${id}/run?wait=true`, { input: {} })).json().data;
      expect(ex.status).toBe('succeeded');
      await w.ended;
      const call = w.events.find((e) => e.type === 'execution.node.finished' && e.nodeId === 'call');
      // The echo came back (the secret was sent), and the event shows it masked.
      expect(JSON.stringify(call)).toContain('Bearer');
      expect(JSON.stringify(w.events)).not.toContain(SECRET);
      const stored = (await req('GET', `/api/v1/executions/${ex.id as string}`)).json().data;
      expect(JSON.stringify(stored)).not.toContain(SECRET);
    });
  },
  { INFINITY_QUEUE_POLL: '100', INFINITY_HTTP_ALLOW: '127.0.0.1/32' },
);
