import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, createApiKey, signUp, type TestUser } from '../../platform/testing/actors.js';
import { describeEachDb } from '../../platform/testing/harness.js';
import { type Received, startReceiver, verifyDelivery } from '../../platform/testing/webhook-receiver.js';
import { pruneDeliveries } from './webhooks.repo.js';
import { LOG_DAYS } from './webhooks.sender.js';

/**
 * Outbound webhooks over HTTP (issue #27): CRUD and validation, roles, tenant isolation, signed
 * deliveries verified with the reference `standardwebhooks` package, filters, test and redeliver,
 * and Zapier's REST hook contract.
 */
const orders = {
  name: 'orders',
  fields: [
    { name: 'title', type: 'string' },
    { name: 'amount', type: 'integer' },
  ],
};

describeEachDb(
  'outbound webhooks',
  (h) => {
    let a: TestUser;
    let b: TestUser;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    const req = (user: TestUser | string, method: string, url: string, body?: unknown) =>
      h().request({ method, url, ...(typeof user === 'string' ? { apiKey: user } : { token: user.token }), ...(body !== undefined ? { body } : {}) });
    const settle = async () => {
      await h().built.events.settled();
      await h().built.webhooks.settled();
    };
    const create = async (user: TestUser | string, body: Record<string, unknown>) => {
      const res = await req(user, 'POST', '/api/v1/webhooks', body);
      expect(res.statusCode, res.body).toBe(201);
      return res.json().data as { id: string; secret: string };
    };
    const deliveriesOf = async (user: TestUser, id: string) => {
      const res = await req(user, 'GET', `/api/v1/webhooks/${id}/deliveries`);
      expect(res.statusCode, res.body).toBe(200);
      return res.json().data as { id: string; eventType: string; status: string; attempts: { statusCode: number | null }[] }[];
    };

    beforeAll(async () => {
      receiver = await startReceiver((path) => (path.startsWith('/gone') ? 410 : 200));
      a = await signUp(h(), 'Ada');
      b = await signUp(h(), 'Bob');
      for (const u of [a, b]) expect((await req(u, 'POST', '/api/v1/models', orders)).statusCode).toBe(201);
    });
    afterAll(async () => receiver.close());

    it('creates a subscription whose secret is shown once, never in lists, gets, events or logs', async () => {
      const w = await create(a, { url: receiver.url('/crud'), events: ['record.created'], model: 'orders', description: 'crud' });
      expect(w.secret).toMatch(/^whsec_[A-Za-z0-9+/=]{40,}$/);
      const got = await req(a, 'GET', `/api/v1/webhooks/${w.id}`);
      expect(got.statusCode).toBe(200);
      expect(got.json().data).toMatchObject({ id: w.id, events: ['record.created'], model: 'orders', enabled: true, createdBy: { type: 'user', id: a.id } });
      const list = await req(a, 'GET', '/api/v1/webhooks');
      expect(list.json().data.map((x: { id: string }) => x.id)).toContain(w.id);
      const patched = await req(a, 'PATCH', `/api/v1/webhooks/${w.id}`, { description: 'renamed', events: ['record.created', 'record.deleted'] });
      expect(patched.statusCode, patched.body).toBe(200);
      expect(patched.json().data).toMatchObject({ description: 'renamed', events: ['record.created', 'record.deleted'] });
      const secretBody = w.secret.slice('whsec_'.length);
      for (const text of [got.body, list.body, patched.body, ...h().logs]) expect(text).not.toContain(secretBody);
      const del = await req(a, 'DELETE', `/api/v1/webhooks/${w.id}`);
      expect(del.statusCode).toBe(204);
      expect((await req(a, 'GET', `/api/v1/webhooks/${w.id}`)).json().error.code).toBe('WEBHOOK_SUBSCRIPTION_NOT_FOUND');
    });

    it.each([
      ['a URL that is no URL', { url: 'not a url', events: ['usage.alert'] }, 400, 'VALIDATION_FAILED'],
      ['a non-http scheme', { url: 'ftp://example.com/x', events: ['usage.alert'] }, 400, 'VALIDATION_FAILED'],
      ['a private address', { url: 'http://10.1.2.3/hook', events: ['usage.alert'] }, 422, 'WEBHOOK_TARGET_REFUSED'],
      ['cloud metadata', { url: 'http://169.254.169.254/latest', events: ['usage.alert'] }, 422, 'WEBHOOK_TARGET_REFUSED'],
      ['an unknown event', { url: 'http://127.0.0.1:9/x', events: ['record.exploded'] }, 400, 'WEBHOOK_EVENT_UNKNOWN'],
      ['record events without a model', { url: 'http://127.0.0.1:9/x', events: ['record.created'] }, 400, 'WEBHOOK_MODEL_INVALID'],
      ['a model with other events', { url: 'http://127.0.0.1:9/x', events: ['usage.alert'], model: 'orders' }, 400, 'WEBHOOK_MODEL_INVALID'],
      ['an unknown model', { url: 'http://127.0.0.1:9/x', events: ['record.created'], model: 'nope' }, 400, 'WEBHOOK_MODEL_INVALID'],
      [
        'a filter on an unknown field',
        { url: 'http://127.0.0.1:9/x', events: ['record.created'], model: 'orders', filter: { colour: 'red' } },
        400,
        'WEBHOOK_FILTER_INVALID',
      ],
      [
        'a filter with an unknown operator',
        { url: 'http://127.0.0.1:9/x', events: ['record.created'], model: 'orders', filter: { amount: { near: 3 } } },
        400,
        'WEBHOOK_FILTER_INVALID',
      ],
      ['an unknown field', { url: 'http://127.0.0.1:9/x', events: ['usage.alert'], secret: 'mine' }, 400, 'VALIDATION_FAILED'],
    ])('refuses %s', async (_what, body, status, code) => {
      const res = await req(a, 'POST', '/api/v1/webhooks', body);
      expect(res.statusCode, res.body).toBe(status);
      expect(res.json().error.code).toBe(code);
      if (code === 'WEBHOOK_TARGET_REFUSED') expect(res.json().error.message).toContain('INFINITY_HTTP_ALLOW');
      if (code === 'WEBHOOK_EVENT_UNKNOWN') expect(res.json().error.message).toContain('record.created, record.updated, record.deleted, execution.succeeded');
    });

    it('refuses a private target on PATCH too, and changes nothing', async () => {
      const w = await create(a, { url: receiver.url('/p'), events: ['usage.alert'] });
      const res = await req(a, 'PATCH', `/api/v1/webhooks/${w.id}`, { url: 'http://192.168.1.10/x' });
      expect(res.statusCode).toBe(422);
      expect(res.json().error.code).toBe('WEBHOOK_TARGET_REFUSED');
      expect((await req(a, 'GET', `/api/v1/webhooks/${w.id}`)).json().data.url).toBe(receiver.url('/p'));
    });

    it('lets admins and admin service keys manage webhooks, and nobody below admin', async () => {
      const editor = await signUp(h(), 'Ed');
      const viewer = await signUp(h(), 'Vi');
      const editorToken = await addMember(h(), a, editor, 'editor');
      const viewerToken = await addMember(h(), a, viewer, 'viewer');
      const editorKey = await createApiKey(h(), a.token, 'editor');
      const body = { url: receiver.url('/roles'), events: ['usage.alert'] };
      for (const t of [{ token: editorToken }, { token: viewerToken }, { apiKey: editorKey.key }]) {
        for (const [method, url] of [
          ['POST', '/api/v1/webhooks'],
          ['GET', '/api/v1/webhooks'],
        ] as const) {
          const res = await h().request({ method, url, ...t, ...(method === 'POST' ? { body } : {}) });
          expect(res.statusCode, `${method} ${url}`).toBe(403);
        }
      }
      const service = await h().request({ method: 'POST', url: '/api/v1/api-keys', token: a.token, body: { name: 'zapier', role: 'admin', kind: 'service' } });
      expect(service.statusCode, service.body).toBe(201);
      const w = await create(service.json().data.key as string, body);
      expect((await req(a, 'GET', `/api/v1/webhooks/${w.id}`)).json().data.createdBy).toEqual({ type: 'apiKey', id: service.json().data.id });
    });

    it('keeps organizations apart: B can neither see nor touch A’s webhooks, and never receives A’s events', async () => {
      const wa = await create(a, { url: receiver.url('/iso-a'), events: ['record.created'], model: 'orders' });
      const wb = await create(b, { url: receiver.url('/iso-b'), events: ['record.created'], model: 'orders' });
      for (const [method, url, body] of [
        ['GET', `/api/v1/webhooks/${wa.id}`, undefined],
        ['PATCH', `/api/v1/webhooks/${wa.id}`, { description: 'mine now' }],
        ['DELETE', `/api/v1/webhooks/${wa.id}`, undefined],
        ['GET', `/api/v1/webhooks/${wa.id}/deliveries`, undefined],
        ['POST', `/api/v1/webhooks/${wa.id}/test`, undefined],
      ] as const) {
        const res = await req(b, method, url, body);
        expect(res.statusCode, `${method} ${url}`).toBe(404);
      }
      expect((await req(b, 'GET', '/api/v1/webhooks')).json().data.map((x: { id: string }) => x.id)).not.toContain(wa.id);
      const ra = await req(a, 'POST', '/api/v1/data/orders', { title: 'from A', amount: 1 });
      const rb = await req(b, 'POST', '/api/v1/data/orders', { title: 'from B', amount: 2 });
      const gotA = await receiver.inbox.wait((r) => r.path === '/iso-a');
      const gotB = await receiver.inbox.wait((r) => r.path === '/iso-b');
      await settle();
      expect(gotA.json.data.record).toMatchObject({ id: ra.json().data.id, title: 'from A' });
      expect(gotB.json.data.record).toMatchObject({ id: rb.json().data.id, title: 'from B' });
      expect(receiver.inbox.items.filter((r) => r.path === '/iso-b').map((r) => r.json.data.record)).not.toContainEqual(
        expect.objectContaining({ title: 'from A' }),
      );
      expect(receiver.inbox.items.filter((r) => r.path === '/iso-a').map((r) => r.json.data.record)).not.toContainEqual(
        expect.objectContaining({ title: 'from B' }),
      );
      for (const w of [wa, wb]) await req(w === wa ? a : b, 'DELETE', `/api/v1/webhooks/${w.id}`);
    });

    it('signs each delivery per Standard Webhooks (verified with the reference package) and logs the attempt', async () => {
      const w = await create(a, { url: receiver.url('/signed'), events: ['record.created', 'record.updated', 'record.deleted'], model: 'orders' });
      const rec = (await req(a, 'POST', '/api/v1/data/orders', { title: 'signed', amount: 3 })).json().data;
      await req(a, 'PATCH', `/api/v1/data/orders/${rec.id}`, { amount: 4 });
      await req(a, 'DELETE', `/api/v1/data/orders/${rec.id}`);
      const seen: Received[] = [];
      for (const type of ['record.created', 'record.updated', 'record.deleted'])
        seen.push(await receiver.inbox.wait((r) => r.path === '/signed' && r.json.type === type));
      for (const r of seen) {
        expect(verifyDelivery(w.secret, r)).toMatchObject({ type: r.json.type });
        expect(r.headers['content-type']).toBe('application/json');
        expect(r.headers['user-agent']).toMatch(/^Infinity-Webhooks\//);
      }
      expect(() => verifyDelivery(`whsec_${Buffer.alloc(32, 7).toString('base64')}`, seen[0]!)).toThrow();
      expect(seen[0]!.json.data).toMatchObject({ model: 'orders', record: { id: rec.id, title: 'signed', amount: 3 } });
      expect(seen[1]!.json.data).toMatchObject({ model: 'orders', record: { amount: 4 }, previous: { amount: 3 }, changed: ['amount'] });
      expect(seen[2]!.json.data).toMatchObject({ model: 'orders', record: { id: rec.id } });
      await settle();
      const log = await deliveriesOf(a, w.id);
      expect(log.map((d) => d.id).sort()).toEqual(seen.map((r) => String(r.headers['webhook-id'])).sort());
      for (const d of log)
        expect(d).toMatchObject({ status: 'delivered', attempts: [{ statusCode: 200, responseExcerpt: 'status 200 from the test receiver' }] });
      const secretBody = w.secret.slice('whsec_'.length);
      expect(JSON.stringify(log)).not.toContain(secretBody);
      const stored = await h().db.pool.query(
        'select d.body, a.response_excerpt, a.error from webhook_deliveries d join webhook_attempts a on a.delivery_id = d.id where d.webhook_id = $1',
        [w.id],
      );
      expect(stored.rows).toHaveLength(3);
      expect(JSON.stringify(stored.rows)).not.toContain(secretBody);
      for (const r of seen) expect(r.body).not.toContain(secretBody);
      await req(a, 'DELETE', `/api/v1/webhooks/${w.id}`);
    });

    it('delivers exactly the records its filter matches (the list filter language)', async () => {
      const w = await create(a, {
        url: receiver.url('/filtered'),
        events: ['record.created'],
        model: 'orders',
        filter: { or: [{ amount: { gt: 10 } }, { title: { startsWith: 'vip' } }] },
      });
      const titles = ['small', 'big', 'vip small', 'edge'];
      const amounts = [5, 20, 1, 10];
      for (let i = 0; i < titles.length; i++) await req(a, 'POST', '/api/v1/data/orders', { title: titles[i], amount: amounts[i] });
      const list = await req(
        a,
        'GET',
        `/api/v1/data/orders?filter=${encodeURIComponent(JSON.stringify({ or: [{ amount: { gt: 10 } }, { title: { startsWith: 'vip' } }] }))}`,
      );
      const expected = list
        .json()
        .data.map((r: { title: string }) => r.title)
        .sort();
      expect(expected).toEqual(['big', 'vip small']);
      await settle();
      const got = receiver.inbox.items.filter((r) => r.path === '/filtered').map((r) => r.json.data.record as { title: string });
      expect(got.map((r) => r.title).sort()).toEqual(expected);
      await req(a, 'DELETE', `/api/v1/webhooks/${w.id}`);
    });

    it('evaluates every filter over a whole batch of events, and a filter that no longer applies holds back no other', async () => {
      const lines = { name: 'lines', fields: [...orders.fields, { name: 'colour', type: 'string' }] };
      expect((await req(a, 'POST', '/api/v1/models', lines)).statusCode).toBe(201);
      const subs = [
        await create(a, { url: receiver.url('/batch-big'), events: ['record.created'], model: 'lines', filter: { amount: { gt: 10 } } }),
        await create(a, { url: receiver.url('/batch-red'), events: ['record.created'], model: 'lines', filter: { colour: 'red' } }),
        await create(a, { url: receiver.url('/batch-all'), events: ['record.created'], model: 'lines' }),
      ];
      const titlesAt = (path: string) =>
        receiver.inbox.items
          .filter((r) => r.path === path)
          .map((r) => (r.json.data.record as { title: string }).title)
          .sort();
      // One request, one transaction: its events reach the consumer in one batch.
      const items = [
        { title: 'a', amount: 5, colour: 'red' },
        { title: 'b', amount: 20, colour: 'blue' },
        { title: 'c', amount: 30, colour: 'red' },
        { title: 'd', amount: 1, colour: 'green' },
      ];
      expect((await req(a, 'POST', '/api/v1/data/lines/bulk', { op: 'create', items })).statusCode).toBe(200);
      await settle();
      expect(titlesAt('/batch-big')).toEqual(['b', 'c']);
      expect(titlesAt('/batch-red')).toEqual(['a', 'c']);
      expect(titlesAt('/batch-all')).toEqual(['a', 'b', 'c', 'd']);
      // The field /batch-red filters on is dropped: that subscription matches nothing, the others go on.
      expect((await req(a, 'PATCH', '/api/v1/models/lines', { dropFields: ['colour'] })).statusCode).toBe(200);
      const more = [
        { title: 'e', amount: 50 },
        { title: 'f', amount: 2 },
      ];
      expect((await req(a, 'POST', '/api/v1/data/lines/bulk', { op: 'create', items: more })).statusCode).toBe(200);
      await settle();
      expect(titlesAt('/batch-big')).toEqual(['b', 'c', 'e']);
      expect(titlesAt('/batch-red')).toEqual(['a', 'c']);
      expect(titlesAt('/batch-all')).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
      for (const w of subs) await req(a, 'DELETE', `/api/v1/webhooks/${w.id}`);
    });

    it('delivers execution.succeeded and execution.failed with the execution, its flow, status and duration', async () => {
      const w = await create(a, { url: receiver.url('/runs'), events: ['execution.succeeded', 'execution.failed'] });
      const node = (id: string, type: string, params: Record<string, unknown> = {}) => ({ id, type, name: id, position: { x: 0, y: 0 }, params });
      const runOf = async (name: string, last: ReturnType<typeof node>) => {
        const flow = (
          await req(a, 'POST', '/api/v1/flows', {
            name,
            nodes: [node('start', 'trigger.manual'), last],
            edges: [{ id: 'e', source: 'start', target: last.id }],
          })
        ).json().data;
        const run = (await req(a, 'POST', `/api/v1/flows/${flow.id as string}/run`, { input: {} })).json().data;
        await h().built.runner.wait(run.id as string, 30_000);
        return { flowId: flow.id as string, executionId: run.id as string };
      };
      const ok = await runOf('fine', node('out', 'core.output', { value: 'done' }));
      const bad = await runOf('broken', node('boom', 'core.code', { source: 'throw new Error("boom")' }));
      const got = await receiver.inbox.wait((r) => r.path === '/runs' && r.json.type === 'execution.succeeded');
      expect(got.json.data).toMatchObject({ executionId: ok.executionId, flowId: ok.flowId, status: 'succeeded', durationMs: expect.any(Number) });
      const failed = await receiver.inbox.wait((r) => r.path === '/runs' && r.json.type === 'execution.failed');
      expect(failed.json.data).toMatchObject({ executionId: bad.executionId, flowId: bad.flowId, status: 'failed', error: { nodeId: 'boom' } });
      expect(verifyDelivery(w.secret, failed)).toBeTruthy();
      await req(a, 'DELETE', `/api/v1/webhooks/${w.id}`);
    });

    it('delivers usage.alert when the organization reaches a plan limit', async () => {
      const c = await signUp(h(), 'Cy');
      const w = await create(c, { url: receiver.url('/usage'), events: ['usage.alert'] });
      // A plan whose agent limit one agent reaches (as the event catalogue test does).
      await h().db.pool.query(`update organizations set plan = 'pro' where id = $1`, [c.orgId]);
      h().built.quotas.forget(c.orgId);
      const secret = (await req(c, 'POST', '/api/v1/secrets', { name: 'llm', provider: 'openai', value: 'sk-webhooks-test-0001' })).json().data;
      expect((await req(c, 'POST', '/api/v1/agents', { name: 'Agent', provider: 'openai', model: 'gpt-4o-mini', secretId: secret.id })).statusCode).toBe(201);
      await h().built.quotas.settle();
      const got = await receiver.inbox.wait((r) => r.path === '/usage');
      expect(got.json).toMatchObject({ type: 'usage.alert', data: { metric: 'agents', percent: 100, used: 1, limit: 1, notificationId: expect.any(String) } });
      expect(verifyDelivery(w.secret, got)).toBeTruthy();
    });

    it('sends a test event on demand and redelivers with the same webhook-id', async () => {
      const w = await create(a, { url: receiver.url('/manual'), events: ['usage.alert'] });
      const test = await req(a, 'POST', `/api/v1/webhooks/${w.id}/test`);
      expect(test.statusCode, test.body).toBe(200);
      expect(test.json().data).toMatchObject({ eventType: 'webhook.test', status: 'delivered', attemptCount: 1, attempts: [{ statusCode: 200 }] });
      const first = await receiver.inbox.wait((r) => r.path === '/manual');
      expect(verifyDelivery(w.secret, first)).toMatchObject({ type: 'webhook.test', data: { webhookId: w.id } });
      const again = await req(a, 'POST', `/api/v1/webhooks/${w.id}/deliveries/${test.json().data.id}/redeliver`);
      expect(again.statusCode, again.body).toBe(200);
      expect(again.json().data).toMatchObject({ status: 'delivered', attemptCount: 2 });
      expect(again.json().data.attempts).toHaveLength(2);
      const both = receiver.inbox.items.filter((r) => r.path === '/manual');
      expect(both).toHaveLength(2);
      expect(both[1]!.headers['webhook-id']).toBe(both[0]!.headers['webhook-id']);
      expect(both[1]!.body).toBe(both[0]!.body);
      expect((await req(a, 'POST', `/api/v1/webhooks/${w.id}/deliveries/0190a0a0-0000-7000-8000-000000000000/redeliver`)).json().error.code).toBe(
        'WEBHOOK_DELIVERY_NOT_FOUND',
      );
    });

    it('disables a subscription whose target answers 410 Gone, at once, and notifies the admins', async () => {
      const w = await create(a, { url: receiver.url('/gone'), events: ['usage.alert'] });
      const res = await req(a, 'POST', `/api/v1/webhooks/${w.id}/test`);
      expect(res.json().data).toMatchObject({ status: 'failed', attempts: [{ statusCode: 410 }] });
      const got = (await req(a, 'GET', `/api/v1/webhooks/${w.id}`)).json().data;
      expect(got).toMatchObject({ enabled: false, disabledReason: 'The target answered 410 Gone.' });
      const notes = (await req(a, 'GET', '/api/v1/notifications')).json().data as { kind: string; body: string }[];
      expect(notes.find((n) => n.kind === 'webhook.disabled' && n.body.includes('410'))).toBeDefined();
      expect((await req(a, 'POST', `/api/v1/webhooks/${w.id}/test`)).json().error.code).toBe('WEBHOOK_SUBSCRIPTION_DISABLED');
    });

    it('documents each event’s payload in the OpenAPI document’s webhooks section', async () => {
      const doc = (await h().request({ method: 'GET', url: '/api/v1/openapi.json' })).json();
      expect(doc.openapi).toBe('3.1.0');
      for (const type of ['record.created', 'record.updated', 'record.deleted', 'execution.succeeded', 'execution.failed', 'usage.alert'])
        expect(doc.webhooks[type].post.requestBody.content['application/json'].schema.properties, type).toMatchObject({
          type: { const: type },
          data: { type: 'object' },
        });
      expect(doc.webhooks['record.updated'].post.requestBody.content['application/json'].schema.properties.data.required).toEqual(
        expect.arrayContaining(['model', 'record', 'previous', 'changed']),
      );
      expect(doc.paths['/api/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver']).toBeDefined();
    });

    it('prunes finished deliveries after 30 days, never pending ones', async () => {
      const w = await create(a, { url: receiver.url('/prune'), events: ['usage.alert'] });
      const ids = ['0190a0a0-0000-7000-8000-0000000000a1', '0190a0a0-0000-7000-8000-0000000000a2', '0190a0a0-0000-7000-8000-0000000000a3'];
      const rows: [string, string, string | null, string][] = [
        [ids[0]!, 'delivered', null, '31 days'],
        [ids[1]!, 'delivered', null, '29 days'],
        [ids[2]!, 'pending', 'now()', '31 days'],
      ];
      for (const [id, status, next, age] of rows)
        await h().db.pool.query(
          `insert into webhook_deliveries (id, webhook_id, org_id, event_id, event_type, body, status, next_attempt_at, updated_at)
           values ($1, $2, $3, $1, 'usage.alert', '{}', $4, ${next ?? 'null'}, now() - $5::interval)`,
          [id, w.id, a.orgId, status, age],
        );
      await pruneDeliveries(h().db.kysely as never, LOG_DAYS);
      const left = await h().db.pool.query('select id from webhook_deliveries where webhook_id = $1 order by id', [w.id]);
      expect(left.rows.map((r) => r.id)).toEqual([ids[1], ids[2]]);
    });

    describe('Zapier’s REST hook contract', () => {
      it('subscribes with a target URL, receives, and unsubscribes by id', async () => {
        const key = await h().request({
          method: 'POST',
          url: '/api/v1/api-keys',
          token: a.token,
          body: { name: 'zapier-app', role: 'admin', kind: 'service' },
        });
        const apiKey = key.json().data.key as string;
        // Zapier's performSubscribe: POST the hook URL it made for this Zap.
        const sub = await create(apiKey, { url: receiver.url('/zap/123/abc'), events: ['record.created'], model: 'orders' });
        const rec = (await req(a, 'POST', '/api/v1/data/orders', { title: 'zapped', amount: 7 })).json().data;
        const got = await receiver.inbox.wait((r) => r.path === '/zap/123/abc');
        expect(got.json).toMatchObject({ type: 'record.created', data: { record: { id: rec.id, title: 'zapped' } } });
        expect(typeof got.json.id).toBe('string');
        // performUnsubscribe: DELETE by the id the subscribe answered.
        expect((await req(apiKey, 'DELETE', `/api/v1/webhooks/${sub.id}`)).statusCode).toBe(204);
        await req(a, 'POST', '/api/v1/data/orders', { title: 'after unsubscribe', amount: 8 });
        await settle();
        expect(receiver.inbox.items.filter((r) => r.path === '/zap/123/abc')).toHaveLength(1);
        // The polling fallback (performList): newest first, with a cursor.
        const poll = await req(apiKey, 'GET', '/api/v1/data/orders?sort=-createdAt&limit=2');
        expect(poll.statusCode).toBe(200);
        expect(poll.json().data[0].title).toBe('after unsubscribe');
        expect(poll.json().meta.nextCursor).toEqual(expect.any(String));
      });
    });
  },
  { INFINITY_HTTP_ALLOW: '127.0.0.1/32', INFINITY_PLAN_LIMITS: JSON.stringify({ pro: { agents: 1 } }) },
);
