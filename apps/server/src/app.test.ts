/**
 * The composition root: building the app constructs and starts nothing (tests and tools build it
 * without side effects); `start()` starts the services in their order; `close()` stops them all.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { signUp } from './platform/testing/actors.js';
import { testBackends } from './platform/testing/backends.js';
import { createHarness, openTestDatabase, testKeys } from './platform/testing/harness.js';

const node = (id: string, type: string, params: Record<string, unknown> = {}) => ({ id, type, name: id, position: { x: 0, y: 0 }, params });
const edge = (source: string, target: string) => ({ id: `${source}-${target}`, source, sourceHandle: 'main', target, targetHandle: 'main' });

/** Waits for a condition the app reaches on its own (a trigger's execution), polling the API. */
async function until<T>(read: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const v = await read();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
}

afterEach(() => {
  vi.useRealTimers();
});

for (const kind of testBackends()) {
  describe(`the composition root [${kind}]`, () => {
    it('building the app starts nothing; start() starts the services in order; close() stops them all', async () => {
      const db = await openTestDatabase(kind);
      // Only intervals are faked (the database drivers need real timeouts): every poller, flusher
      // and heartbeat of the app is one, so the count says what runs; none of them ever fires here.
      vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
      const h = await createHarness(kind, { INFINITY_QUEUE_POLL: '100' }, { db, keys: testKeys() }, { start: false });
      try {
        expect(vi.getTimerCount(), 'intervals running after build').toBe(0);
        expect(h.built.services).toEqual([
          'logs',
          'metrics',
          'sandbox',
          'outbound http',
          'notifications',
          'events',
          'quotas',
          'api-key uses',
          'search widths',
          'embeddings',
          'executions',
          'triggers',
          'webhook subscriptions',
          'webhook sender',
          'realtime',
          'http',
        ]);

        // The API answers without start (inject): a user, a model, a record-triggered flow, a queued run.
        const owner = await signUp(h, 'Owner');
        const req = (method: string, url: string, body?: unknown) => h.request({ method, url, token: owner.token, ...(body === undefined ? {} : { body }) });
        expect((await req('POST', '/api/v1/models', { name: 'leads', fields: [{ name: 'email', type: 'string' }] })).statusCode).toBe(201);
        const triggered = (
          await req('POST', '/api/v1/flows', {
            name: 'On lead',
            nodes: [
              node('on', 'trigger.record', { model: 'leads', events: ['created'] }),
              node('out', 'core.transform', { expression: '$input.record.email' }),
            ],
            edges: [edge('on', 'out')],
            active: true,
          })
        ).json().data.id as string;
        const manual = (await req('POST', '/api/v1/flows?template=blank', { name: 'Queued' })).json().data.id as string;
        const queued = await req('POST', `/api/v1/flows/${manual}/run`, { input: {} });
        expect(queued.statusCode).toBe(202);
        const queuedId = queued.json().data.id as string;
        expect((await req('POST', '/api/v1/data/leads', { email: 'before@start.io' })).statusCode).toBe(201);

        // Not started: no worker claimed the queued execution, no trigger fired for the record.
        expect((await req('GET', `/api/v1/executions/${queuedId}`)).json().data.status).toBe('queued');
        expect((await req('GET', `/api/v1/executions?flowId=${triggered}`)).json().data).toEqual([]);
        expect(vi.getTimerCount(), 'intervals running before start').toBe(0);

        await h.built.start();
        expect(vi.getTimerCount(), 'intervals running after start').toBeGreaterThan(0);
        // The worker claims what was queued before it started.
        expect(await h.built.runner.wait(queuedId, 20_000)).toMatchObject({ status: 'succeeded' });
        // The trigger hub has loaded the active flow: a new record fires it.
        expect((await req('POST', '/api/v1/data/leads', { email: 'after@start.io' })).statusCode).toBe(201);
        const fired = await until(async () => {
          const list = (await req('GET', `/api/v1/executions?flowId=${triggered}`)).json().data as { status: string; trigger: string }[];
          return list.find((e) => e.status === 'succeeded');
        });
        expect(fired.trigger).toBe('record');
      } finally {
        await h.close();
      }
      expect(vi.getTimerCount(), 'intervals left after close').toBe(0);
    });

    it('an app built and closed without start stops cleanly (what a tool does)', async () => {
      const h = await createHarness(kind, {}, undefined, { start: false });
      const owner = await signUp(h, 'Tool user');
      expect((await h.request({ method: 'GET', url: '/api/v1/flows', token: owner.token })).statusCode).toBe(200);
      await h.close();
      // Closed: the services cannot be started again (a new app is built instead).
      await expect(h.built.start()).rejects.toThrow(/stopped/);
    });
  });
}
