import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../platform/db/index.js';
import { createApiKey, signUp } from '../../platform/testing/actors.js';
import { testBackends } from '../../platform/testing/backends.js';
import { testRedisUrl } from '../../platform/testing/events.js';
import { type Harness, createHarness, openTestDatabase, testKeys } from '../../platform/testing/harness.js';
import { SseClient, WsClient, listening } from '../../platform/testing/realtime.js';

/**
 * Realtime across processes: two apps (A and B) on one PostgreSQL database, over LISTEN/NOTIFY and
 * over Redis. A change made through A reaches subscribers connected to B; a ticket issued by A
 * works once on B; an SSE client that reconnects to B replays what A logged; a key revoked on A
 * closes B's connection; presence lists connections of both.
 */
for (const via of ['listen/notify', 'redis'] as const) {
  describe.runIf(testBackends().includes('postgres'))(`realtime across processes [postgres, ${via}]`, () => {
    let a: Harness;
    let b: Harness;
    let baseA: string;
    let baseB: string;
    beforeAll(async () => {
      const db = await openTestDatabase('postgres');
      const env = { DATABASE_URL: db.url!, ...(via === 'redis' ? { REDIS_URL: testRedisUrl() } : {}) };
      const keys = testKeys();
      a = await createHarness('postgres', env, { db, keys });
      b = await createHarness('postgres', env, { db: await openDatabase({ postgresUrl: db.url!, poolSize: 5 }), keys });
      baseA = await listening(a.built);
      baseB = await listening(b.built);
    });
    afterAll(async () => {
      await b?.close();
      await a?.close();
    });

    const org = async () => {
      const owner = await signUp(a, 'Owner');
      const m = await a.request({
        method: 'POST',
        url: '/api/v1/models',
        token: owner.token,
        body: { name: 'items', fields: [{ name: 'title', type: 'string' }] },
      });
      expect(m.statusCode, m.body).toBe(201);
      return owner;
    };
    const create = async (token: string, title: string) => {
      const r = await a.request({ method: 'POST', url: '/api/v1/data/items', token, body: { title } });
      expect(r.statusCode, r.body).toBe(201);
    };

    it('a record written on A reaches a WebSocket on B, in its organization only; a key revoked on A closes it on B', async () => {
      const one = await org();
      const two = await org();
      const { id, key } = await createApiKey(a, one.token, 'viewer');
      const c = await WsClient.as(baseB, key);
      const o = await WsClient.as(baseB, two.token);
      expect((await c.subscribe('r', { channel: 'records', model: 'items' })).type).toBe('subscribed');
      expect((await o.subscribe('r', { channel: 'records', model: 'items', filter: { title: { startsWith: 'x' } } })).type).toBe('subscribed');
      await a.built.events.remoteInterestIn('record.created');
      await create(two.token, 'x-two');
      await create(one.token, 'x-one');
      expect((await c.wait((m) => m.type === 'event')).data.after.title).toBe('x-one');
      expect((await o.wait((m) => m.type === 'event')).data.after.title).toBe('x-two');
      expect(c.events().map((m) => m.data.after.title)).toEqual(['x-one']);
      expect((await a.request({ method: 'DELETE', url: `/api/v1/api-keys/${id}`, token: one.token })).statusCode).toBe(204);
      expect((await c.wait((m) => m.type === 'error')).error.code).toBe('REALTIME_ACCESS_REVOKED');
      expect((await c.closed).code).toBe(4401);
      o.close();
    });

    it('an SSE ticket issued by A works once, on B', async () => {
      const one = await org();
      const t = await a.request({ method: 'POST', url: '/api/v1/realtime/tickets', token: one.token });
      const ticket = t.json().data.ticket as string;
      const s = await SseClient.open(baseB, `channel=records&model=items&ticket=${ticket}`);
      expect(s.status).toBe(200);
      await s.wait((f) => f.event === 'subscribed');
      const again = await SseClient.open(baseA, `channel=records&model=items&ticket=${ticket}`);
      expect(again.status).toBe(401);
      s.close();
    });

    it('an SSE client that reconnects on B with Last-Event-ID gets what it missed while A logged it', async () => {
      const one = await org();
      const auth = { authorization: `Bearer ${one.token}` };
      const first = await SseClient.open(baseA, 'channel=records&model=items', auth);
      await first.wait((f) => f.event === 'subscribed');
      await create(one.token, 'e1');
      const seen = await first.wait((f) => f.event === 'record.created');
      first.close();
      await create(one.token, 'e2');
      await create(one.token, 'e3');
      // A writes its replay log in batches: reconnect once e3 is in it (as a client reconnecting after a second would find it).
      const logged = async () => (await a.db.pool.query(`select 1 from realtime_events where payload->'after'->>'title' = 'e3'`)).rowCount === 1;
      while (!(await logged())) await a.built.realtime.log.flush();
      const back = await SseClient.open(baseB, 'channel=records&model=items', { ...auth, 'last-event-id': seen.id! });
      await back.wait((f) => f.data?.data?.after?.title === 'e3');
      await a.built.events.remoteInterestIn('record.created');
      await create(one.token, 'e4');
      await back.wait((f) => f.data?.data?.after?.title === 'e4');
      expect(back.events().map((f) => f.data!.data.after.title)).toEqual(['e2', 'e3', 'e4']);
      back.close();
    });

    it('presence lists the connections of both processes; a close on A reaches B', async () => {
      const one = await org();
      const flow = await a.request({ method: 'POST', url: '/api/v1/flows', token: one.token, body: { name: 'Shared', nodes: [] } });
      expect(flow.statusCode, flow.body).toBe(201);
      const flowId = flow.json().data.id as string;
      const onA = await WsClient.as(baseA, one.token);
      expect((await onA.subscribe('f', { channel: 'flow', flowId })).presence).toHaveLength(1);
      const onB = await WsClient.as(baseB, one.token);
      const r = await onB.subscribe('f', { channel: 'flow', flowId });
      expect(r.presence).toHaveLength(2);
      // A hears B's open (after its own).
      await onA.wait(() => onA.events('f').filter((m) => m.data.state === 'open').length === 2);
      onA.close();
      expect((await onB.wait((m) => m.event === 'flow.presence' && m.data.state === 'closed')).data.flowId).toBe(flowId);
      onB.close();
    });
  });
}
