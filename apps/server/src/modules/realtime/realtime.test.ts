import { randomUUID } from 'node:crypto';
import { setImmediate as tick } from 'node:timers/promises';
import { beforeAll, expect, it } from 'vitest';
import { addMember, createApiKey, signUp, type TestUser } from '../../platform/testing/actors.js';
import { describeEachDb, type Harness } from '../../platform/testing/harness.js';
import { type Message, SseClient, WsClient, listening } from '../../platform/testing/realtime.js';
import { jwtKeyFrom, signAccessToken } from '../identity/tokens.js';

/**
 * Realtime on one process (both databases): authentication, the protocol, every channel with a
 * second organization subscribed to the same names, filters, revocation, back-pressure, SSE with
 * tickets and replay. Cross-process cases are in realtime.processes.test.ts.
 */

const node = (id: string, type: string, params: Record<string, unknown> = {}) => ({ id, type, name: id, position: { x: 0, y: 0 }, params });
const edge = (source: string, target: string) => ({ id: `${source}-${target}`, source, sourceHandle: 'main', target, targetHandle: 'main' });

interface Org {
  owner: TestUser;
  viewer: string;
  acme: string;
  other: string;
}

/** An organization with models companies {name} and items {title, price, company → companies}, and a viewer. */
async function makeOrg(h: Harness): Promise<Org> {
  const owner = await signUp(h, 'Owner');
  const req = (url: string, body: unknown) => h.request({ method: 'POST', url, token: owner.token, body });
  expect((await req('/api/v1/models', { name: 'companies', fields: [{ name: 'name', type: 'string' }] })).statusCode).toBe(201);
  const items = await req('/api/v1/models', {
    name: 'items',
    fields: [
      { name: 'title', type: 'string' },
      { name: 'price', type: 'number' },
      { name: 'company', type: 'relation', target: 'companies', kind: 'many-to-one', onDelete: 'set null' },
    ],
  });
  expect(items.statusCode, items.body).toBe(201);
  const acme = (await req('/api/v1/data/companies', { name: 'Acme' })).json().data.id as string;
  const other = (await req('/api/v1/data/companies', { name: 'Other' })).json().data.id as string;
  const viewerUser = await signUp(h, 'Viewer');
  const viewer = await addMember(h, owner, viewerUser, 'viewer');
  return { owner, viewer, acme, other };
}

const titles = (c: WsClient, id: string) =>
  c.events(id).map((m) => `${m.event as string} ${(m.data.after ?? m.data.before).title as string}${m.match ? ` ${m.match}` : ''}`);

describeEachDb(
  'realtime',
  (h) => {
    let base: string;
    let a: Org;
    let b: Org;
    const item = async (org: Org, body: Record<string, unknown>) => {
      const r = await h().request({ method: 'POST', url: '/api/v1/data/items', token: org.owner.token, body });
      expect(r.statusCode, r.body).toBe(201);
      return r.json().data.id as string;
    };
    const patch = async (org: Org, id: string, body: Record<string, unknown>) => {
      const r = await h().request({ method: 'PATCH', url: `/api/v1/data/items/${id}`, token: org.owner.token, body });
      expect(r.statusCode, r.body).toBe(200);
    };

    beforeAll(async () => {
      base = await listening(h().built);
      a = await makeOrg(h());
      b = await makeOrg(h());
    });

    it('authenticates by header (token or key) or by a first auth message; refuses a bad credential and a silent socket', async () => {
      const byHeader = await WsClient.as(base, a.viewer);
      expect(byHeader.inbox.items[0]).toMatchObject({ type: 'authenticated', expiresAt: expect.any(String) });
      const { key } = await createApiKey(h(), a.owner.token, 'viewer');
      const byKey = await WsClient.open(base, { 'x-api-key': key });
      expect(await byKey.wait((m) => m.type === 'authenticated')).toMatchObject({ expiresAt: null });

      const first = await WsClient.open(base);
      first.send({ type: 'subscribe', id: 'early', channel: 'notifications' });
      expect((await first.wait((m) => m.type === 'error')).error.code).toBe('UNAUTHENTICATED');
      first.send({ type: 'auth', token: a.viewer });
      await first.wait((m) => m.type === 'authenticated');
      expect((await first.subscribe('n', { channel: 'notifications' })).type).toBe('subscribed');
      const firstKey = await WsClient.open(base);
      firstKey.send({ type: 'auth', apiKey: key });
      await firstKey.wait((m) => m.type === 'authenticated');

      await expect(WsClient.open(base, { authorization: 'Bearer not-a-token' })).rejects.toThrow(/401/);
      const badFirst = await WsClient.open(base);
      badFirst.send({ type: 'auth', token: 'not-a-token' });
      expect((await badFirst.wait((m) => m.type === 'error')).error.code).toBe('AUTH_TOKEN_INVALID');
      expect((await badFirst.closed).code).toBe(4401);

      const silent = await WsClient.open(base);
      expect((await silent.wait((m) => m.type === 'error')).error.code).toBe('REALTIME_AUTH_TIMEOUT');
      expect((await silent.closed).code).toBe(4401);
      for (const c of [byHeader, byKey, first, firstKey]) c.close();
    });

    it('validates every message: bad JSON, unknown type or channel, extra fields, a model that does not exist, duplicate ids, the subscription cap, ping, size', async () => {
      const c = await WsClient.as(base, a.viewer);
      c.send('{not json');
      expect((await c.wait((m) => m.type === 'error')).error.code).toBe('REALTIME_MESSAGE_INVALID');
      const bad = [
        { type: 'shout' },
        { type: 'subscribe', id: 'x', channel: 'everything' },
        { type: 'subscribe', id: 'x', channel: 'records', model: 'items', token: 'sneaky' },
        { type: 'subscribe', id: 'x', channel: 'execution', executionId: 'not-a-uuid' },
        { type: 'auth', token: 'a', apiKey: 'b' },
      ];
      for (const msg of bad) c.send(msg);
      c.send({ type: 'ping' });
      await c.wait((m) => m.type === 'pong');
      expect(c.inbox.items.filter((m) => m.type === 'error' && m.error.code === 'REALTIME_MESSAGE_INVALID')).toHaveLength(1 + bad.length);

      expect((await c.subscribe('m', { channel: 'records', model: 'nope' })).error.code).toBe('MODEL_NOT_FOUND');
      expect((await c.subscribe('f', { channel: 'records', model: 'items', filter: { nope: { eq: 1 } } })).error.code).toBe('QUERY_INVALID');
      expect((await c.subscribe('e', { channel: 'execution', executionId: randomUUID() })).error.code).toBe('NOT_FOUND');
      for (let i = 0; i < 100; i++) c.send({ type: 'subscribe', id: `n${i}`, channel: 'notifications' });
      await c.wait((m) => m.id === 'n99' && m.type === 'subscribed');
      expect((await c.subscribe('n0', { channel: 'notifications' })).error.code).toBe('REALTIME_SUBSCRIPTION_EXISTS');
      expect((await c.subscribe('n100', { channel: 'notifications' })).error.code).toBe('REALTIME_SUBSCRIPTION_LIMIT');
      c.send({ type: 'unsubscribe', id: 'n5' });
      await c.wait((m) => m.type === 'unsubscribed' && m.id === 'n5');
      expect((await c.subscribe('n100', { channel: 'notifications' })).type).toBe('subscribed');

      c.send({ type: 'ping', pad: 'x'.repeat(70_000) });
      expect((await c.closed).code).toBe(1009);
    });

    it('a client that sends faster than the server takes its messages is closed (bounded queue and rate)', async () => {
      const c = await WsClient.as(base, a.viewer);
      for (let i = 0; i < 400; i++) c.send({ type: 'ping' });
      const limited = await c.wait((m) => m.type === 'error' && m.error.code === 'REALTIME_RATE_LIMITED');
      expect(limited.error.code).toBe('REALTIME_RATE_LIMITED');
      expect((await c.closed).code).toBe(4429);
    });

    it('records: each organization sees only its own events on the same model name; the envelope carries the event without its routing fields', async () => {
      const ca = await WsClient.as(base, a.viewer);
      const cb = await WsClient.as(base, b.viewer);
      expect((await ca.subscribe('r', { channel: 'records', model: 'items' })).type).toBe('subscribed');
      expect((await cb.subscribe('r', { channel: 'records', model: 'items' })).type).toBe('subscribed');
      const bId = await item(b, { title: 'b-1', price: 1 });
      const aId = await item(a, { title: 'a-1', price: 1 });
      await patch(a, aId, { price: 2 });
      expect((await h().request({ method: 'DELETE', url: `/api/v1/data/items/${aId}`, token: a.owner.token })).statusCode).toBe(204);
      await patch(b, bId, { price: 2 });
      const last = await ca.wait((m) => m.event === 'record.deleted');
      await cb.wait((m) => m.event === 'record.updated');
      expect(titles(ca, 'r')).toEqual(['record.created a-1', 'record.updated a-1', 'record.deleted a-1']);
      expect(titles(cb, 'r')).toEqual(['record.created b-1', 'record.updated b-1']);
      expect(Object.keys(last).sort()).toEqual(['at', 'data', 'event', 'eventId', 'id', 'type']);
      expect(last.data).toMatchObject({ model: 'items', recordId: aId, before: { title: 'a-1', price: 2 } });
      expect(last.data).not.toHaveProperty('orgId');
      expect(last.data).not.toHaveProperty('permission');
      ca.close();
      cb.close();
    });

    it('records filters: evaluated exactly as lists (a related field too); an update says when the record entered or left the filter', async () => {
      const c = await WsClient.as(base, a.viewer);
      const twin = await WsClient.as(base, a.viewer);
      const other = await WsClient.as(base, b.viewer);
      expect((await c.subscribe('cheap', { channel: 'records', model: 'items', filter: { price: { lt: 10 } } })).type).toBe('subscribed');
      expect((await c.subscribe('acme', { channel: 'records', model: 'items', filter: { 'company.name': { eq: 'Acme' } } })).type).toBe('subscribed');
      expect((await twin.subscribe('acme', { channel: 'records', model: 'items', filter: { 'company.name': { eq: 'Acme' } } })).type).toBe('subscribed');
      expect((await other.subscribe('acme', { channel: 'records', model: 'items', filter: { 'company.name': { eq: 'Acme' } } })).type).toBe('subscribed');
      const x = await item(a, { title: 'x', price: 5, company: a.acme });
      await item(a, { title: 'y', price: 50, company: a.other });
      await item(b, { title: 'b-acme', price: 5, company: b.acme });
      await patch(a, x, { price: 20 });
      await patch(a, x, { price: 3, company: a.other });
      await patch(a, x, { title: 'x2' });
      await item(a, { title: 'end', price: 1, company: a.acme });
      await c.wait((m) => m.id === 'acme' && m.data?.after?.title === 'end');
      await twin.wait((m) => m.data?.after?.title === 'end');
      expect(titles(c, 'cheap')).toEqual(['record.created x', 'record.updated x left', 'record.updated x entered', 'record.updated x2', 'record.created end']);
      expect(titles(c, 'acme')).toEqual(['record.created x', 'record.updated x', 'record.updated x left', 'record.created end']);
      expect(titles(twin, 'acme')).toEqual(titles(c, 'acme'));
      expect(titles(other, 'acme')).toEqual(['record.created b-acme']);
      for (const k of [c, twin, other]) k.close();
    });

    it('execution, executions and flow channels: runs, node events with output and logs, saved versions and presence; never across organizations', async () => {
      const { key } = await createApiKey(h(), a.owner.token, 'editor');
      const req = (method: string, url: string, body?: unknown) => h().request({ method, url, apiKey: key, body });
      const created = await req('POST', '/api/v1/flows', {
        name: 'Approval',
        nodes: [
          node('s', 'trigger.manual'),
          node('ask', 'core.set', { values: { url: '{{ $execution.resumeUrl }}' } }),
          node('w', 'core.wait', { mode: 'webhook', timeoutSeconds: 3600 }),
          node('o', 'core.output', { value: '{{ $input.decision }}' }),
        ],
        edges: [edge('s', 'ask'), edge('ask', 'w'), edge('w', 'o')],
      });
      expect(created.statusCode, created.body).toBe(201);
      const flowId = created.json().data.id as string;
      const c = await WsClient.as(base, a.viewer);
      const editor = await WsClient.as(base, a.owner.token);
      const outsider = await WsClient.as(base, b.owner.token);
      expect((await outsider.subscribe('f', { channel: 'flow', flowId })).error.code).toBe('NOT_FOUND');
      expect((await outsider.subscribe('x', { channel: 'executions', flowId })).error.code).toBe('NOT_FOUND');
      expect((await outsider.subscribe('all', { channel: 'executions' })).type).toBe('subscribed');
      expect((await c.subscribe('runs', { channel: 'executions', flowId })).type).toBe('subscribed');
      const opened = await c.subscribe('flow', { channel: 'flow', flowId });
      expect(opened.presence).toEqual([expect.objectContaining({ userId: expect.any(String), name: 'Viewer' })]);
      const second = await editor.subscribe('flow', { channel: 'flow', flowId });
      expect(second.presence).toHaveLength(2);
      const joined = await c.wait((m) => m.event === 'flow.presence' && m.data.name === 'Owner');
      expect(joined.data).toMatchObject({ flowId, state: 'open', connectionId: expect.any(String) });

      const parked = (await req('POST', `/api/v1/flows/${flowId}/run?wait=true`, { input: {} })).json().data;
      expect(parked.status).toBe('waiting');
      expect((await outsider.subscribe('e', { channel: 'execution', executionId: parked.id })).error.code).toBe('NOT_FOUND');
      expect((await c.subscribe('one', { channel: 'execution', executionId: parked.id })).type).toBe('subscribed');
      const trace = (await req('GET', `/api/v1/executions/${parked.id as string}`)).json().data;
      const url = new URL(trace.nodes.find((n: { nodeId: string }) => n.nodeId === 'ask').output.main.url as string);
      expect((await h().request({ method: 'POST', url: `${url.pathname}${url.search}`, body: { decision: 'yes' } })).statusCode).toBe(202);
      await c.wait((m) => m.id === 'one' && m.event === 'execution.succeeded');
      expect(c.events('one').map((m) => `${m.event as string}${m.data.nodeId ? ` ${m.data.nodeId as string}` : ''}`)).toEqual([
        'execution.node.finished w',
        'execution.node.started o',
        'execution.node.finished o',
        'execution.succeeded',
      ]);
      expect(c.events('one')[0]!.data).toMatchObject({ status: 'succeeded', outputSummary: { main: { decision: 'yes' } } });
      await c.wait((m) => m.id === 'runs' && m.event === 'execution.succeeded');
      expect(c.events('runs').map((m) => m.event)).toEqual(['execution.queued', 'execution.succeeded']);

      const saved = await req('PATCH', `/api/v1/flows/${flowId}`, { description: 'changed' });
      expect(saved.statusCode, saved.body).toBe(200);
      expect((await c.wait((m) => m.id === 'flow' && m.event === 'flow.saved')).data).toMatchObject({ flowId, change: 'updated' });
      editor.close();
      expect((await c.wait((m) => m.event === 'flow.presence' && m.data.state === 'closed')).data.name).toBe('Owner');
      // The outsider's organization-wide subscription heard nothing of A's runs.
      await item(b, { title: 'b-marker', price: 1 });
      expect(outsider.events('all')).toEqual([]);
      c.close();
      outsider.close();
    });

    it('presence rows of a process that stopped renewing them lapse: the list leaves them out', async () => {
      const flow = await h().request({ method: 'POST', url: '/api/v1/flows', token: a.owner.token, body: { name: 'Lapsed', nodes: [] } });
      const flowId = flow.json().data.id as string;
      const row = (conn: string, ttl: string) =>
        h().db.pool.query(
          `insert into realtime_presence (connection_id, org_id, flow_id, user_id, name, expires_at) values ($1, $2, $3, 'u', 'Ghost', now() + $4::interval)`,
          [conn, a.owner.orgId, flowId, ttl],
        );
      await row('dead-process-conn', '-1 second');
      await row('live-process-conn', '1 minute');
      const c = await WsClient.as(base, a.viewer);
      const r = await c.subscribe('f', { channel: 'flow', flowId });
      const ids = r.presence.map((p: { connectionId: string }) => p.connectionId);
      expect(ids).toHaveLength(2);
      expect(ids).toContain('live-process-conn');
      expect(ids).not.toContain('dead-process-conn');
      c.close();
    });

    it('agents and notifications channels: delivered in their organization only', async () => {
      const c = await WsClient.as(base, a.viewer);
      const o = await WsClient.as(base, b.viewer);
      for (const k of [c, o]) {
        expect((await k.subscribe('ag', { channel: 'agents' })).type).toBe('subscribed');
        expect((await k.subscribe('conv', { channel: 'agents', conversationId: randomUUID() })).error.code).toBe('NOT_FOUND');
        expect((await k.subscribe('n', { channel: 'notifications' })).type).toBe('subscribed');
      }
      const events = h().built.events;
      const agentId = randomUUID();
      for (const org of [b.owner.orgId, a.owner.orgId]) {
        events.publish({ type: 'agent.status', orgId: org, permission: 'agents:read', agentId, status: 'thinking' });
        events.publish({
          type: 'notification.created',
          orgId: org,
          permission: 'notifications:read',
          notificationId: randomUUID(),
          kind: 'usage',
          title: `for ${org}`,
        });
      }
      await c.wait((m) => m.id === 'n' && m.type === 'event');
      await o.wait((m) => m.id === 'n' && m.type === 'event');
      expect(c.events().map((m) => `${m.id as string} ${m.event as string}`)).toEqual(['ag agent.status', 'n notification.created']);
      expect(c.events('n')[0]!.data.title).toBe(`for ${a.owner.orgId}`);
      expect(o.events('n')[0]!.data.title).toBe(`for ${b.owner.orgId}`);
      c.close();
      o.close();
    });

    it('stats: a per-organization delta of finished runs and changed records', async () => {
      const c = await WsClient.as(base, a.viewer);
      const o = await WsClient.as(base, b.viewer);
      expect((await c.subscribe('s', { channel: 'stats' })).type).toBe('subscribed');
      expect((await o.subscribe('s', { channel: 'stats' })).type).toBe('subscribed');
      const id = await item(a, { title: 's1', price: 1 });
      await item(a, { title: 's2', price: 1 });
      await patch(a, id, { price: 2 });
      await item(b, { title: 'sb', price: 1 });
      const sum = (k: WsClient, field: string) => k.events('s').reduce((n, m) => n + (m.data.records[field] as number), 0);
      while (sum(c, 'created') < 2 || sum(c, 'updated') < 1) {
        const n = c.events('s').length;
        await c.wait(() => c.events('s').length > n);
      }
      await o.wait((m) => m.event === 'stats.delta');
      const d = c.events('s')[0]!;
      expect(d.data).toMatchObject({ executions: { succeeded: 0, failed: 0 }, records: expect.any(Object), from: expect.any(String), to: expect.any(String) });
      expect([sum(c, 'created'), sum(c, 'updated'), sum(c, 'deleted')]).toEqual([2, 1, 0]);
      expect(sum(o, 'created')).toBe(1);
      c.close();
      o.close();
    });

    it('a revoked key, a removed member and an expired token are disconnected with an error; a renewed token is not', async () => {
      const owner = await signUp(h(), 'Boss');
      const { id: keyId, key } = await createApiKey(h(), owner.token, 'viewer');
      const byKey = await WsClient.as(base, key);
      expect((await h().request({ method: 'DELETE', url: `/api/v1/api-keys/${keyId}`, token: owner.token })).statusCode).toBe(204);
      expect((await byKey.wait((m) => m.type === 'error')).error.code).toBe('REALTIME_ACCESS_REVOKED');
      expect((await byKey.closed).code).toBe(4401);

      const member = await signUp(h(), 'Leaver');
      const memberToken = await addMember(h(), owner, member, 'editor');
      const m = await WsClient.as(base, memberToken);
      expect((await m.subscribe('n', { channel: 'notifications' })).type).toBe('subscribed');
      const demoted = await h().request({ method: 'PATCH', url: `/api/v1/members/${member.id}`, token: owner.token, body: { role: 'viewer' } });
      expect(demoted.statusCode, demoted.body).toBe(200);
      expect((await h().request({ method: 'DELETE', url: `/api/v1/members/${member.id}`, token: owner.token })).statusCode).toBe(204);
      expect((await m.wait((x) => x.type === 'error')).error.code).toBe('REALTIME_ACCESS_REVOKED');
      expect((await m.closed).code).toBe(4401);

      // Tokens that expire in one to two seconds (exp is in whole seconds): one renewed at once, one not.
      const jwt = jwtKeyFrom(h().keys.jwtSecret);
      const claims = { userId: owner.id, orgId: owner.orgId, sessionId: randomUUID() };
      const renewed = await WsClient.as(base, await signAccessToken(jwt, claims, 2));
      renewed.send({ type: 'auth', token: owner.token });
      await renewed.wait((x) => x.type === 'authenticated' && renewed.inbox.items.filter((y) => y.type === 'authenticated').length === 2);
      const expiring = await WsClient.as(base, await signAccessToken(jwt, claims, 2));
      expect((await expiring.wait((x) => x.type === 'error')).error.code).toBe('REALTIME_TOKEN_EXPIRED');
      expect((await expiring.closed).code).toBe(4401);
      // Someone outside any organization (a consumer has no account at all) gets nothing.
      const nowhere = await WsClient.open(base, { authorization: `Bearer ${await signAccessToken(jwt, { ...claims, orgId: null }, 60)}` });
      expect((await nowhere.wait((x) => x.type === 'error')).error.code).toBe('AUTH_NO_ORGANIZATION');
      expect((await nowhere.closed).code).toBe(4403);
      // The renewed connection outlived its first token (which expired no later than the other).
      renewed.send({ type: 'ping' });
      await renewed.wait((x) => x.type === 'pong');
      renewed.close();
    });

    /** Publishes 16 KB notifications until the hub has dropped a connection (at most 1,000: more than loopback's socket buffers hold). */
    const flood = async (orgId: string) => {
      const title = 'x'.repeat(16 * 1024);
      const before = h().built.realtime.size;
      for (let i = 0; i < 1000 && h().built.realtime.size === before; i++) {
        h().built.events.publish({ type: 'notification.created', orgId, permission: 'notifications:read', notificationId: randomUUID(), kind: 'k', title });
        await tick();
      }
      expect(h().built.realtime.size).toBe(before - 1);
    };

    it('a client that does not read is dropped with SLOW_CONSUMER once its unsent bytes pass the bound (WebSocket and SSE)', async () => {
      const owner = await signUp(h(), 'Slow');
      const c = await WsClient.as(base, owner.token);
      expect((await c.subscribe('n', { channel: 'notifications' })).type).toBe('subscribed');
      const socket = (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      socket.pause();
      await flood(owner.orgId);
      socket.resume();
      expect((await c.wait((m) => m.type === 'error')).error.code).toBe('SLOW_CONSUMER');
      expect((await c.closed).code).toBe(4503);

      const s = await SseClient.open(base, 'channel=notifications', { authorization: `Bearer ${owner.token}` });
      await s.wait((f) => f.event === 'subscribed');
      s.pause();
      await flood(owner.orgId);
      s.resume();
      expect((await s.wait((f) => f.event === 'error')).data!.error.code).toBe('SLOW_CONSUMER');
      await s.ended;
    });

    it('SSE: headers or a single-use ticket (never a token in the URL); frames with id, event and data; heartbeat-free errors as HTTP', async () => {
      const plain = await SseClient.open(base, 'channel=records&model=items', { authorization: `Bearer ${a.viewer}` });
      expect(plain.status).toBe(200);
      await plain.wait((f) => f.event === 'subscribed');
      const t = await h().request({ method: 'POST', url: '/api/v1/realtime/tickets', token: a.viewer });
      expect(t.statusCode, t.body).toBe(201);
      const ticket = t.json().data.ticket as string;
      const filter = encodeURIComponent(JSON.stringify({ price: { gt: 100 } }));
      const s = await SseClient.open(base, `channel=records&model=items&filter=${filter}&ticket=${ticket}`);
      expect(s.status).toBe(200);
      const again = await SseClient.open(base, `channel=records&model=items&ticket=${ticket}`);
      expect(again.status).toBe(401);
      expect(JSON.parse(again.body).error.code).toBe('REALTIME_TICKET_INVALID');
      const inUrl = await SseClient.open(base, `channel=records&model=items&token=${a.viewer}`);
      expect(inUrl.status).toBe(400);
      expect((await SseClient.open(base, 'channel=records&model=items')).status).toBe(401);
      expect((await SseClient.open(base, 'channel=records&model=nope', { authorization: `Bearer ${a.viewer}` })).status).toBe(404);
      await item(b, { title: 'b-big', price: 500 });
      await item(a, { title: 'small', price: 5 });
      await item(a, { title: 'big', price: 500 });
      const big = await s.wait((f) => f.event === 'record.created');
      expect(big.id).toBe(big.data!.eventId);
      expect(big.data).toMatchObject({ event: 'record.created', data: { after: { title: 'big' } } });
      await plain.wait((f) => f.data?.data?.after?.title === 'big');
      expect(plain.events().map((f) => f.data!.data.after.title)).toEqual(['small', 'big']);
      expect(s.events()).toHaveLength(1);
      s.close();
      plain.close();
    });

    it('SSE replay: Last-Event-ID sends what was missed (same filter), then live events; a gap beyond the window is REPLAY_UNAVAILABLE', async () => {
      const auth = { authorization: `Bearer ${a.viewer}` };
      const filter = encodeURIComponent(JSON.stringify({ title: { startsWith: 'rp-' } }));
      const q = `channel=records&model=items&filter=${filter}`;
      const first = await SseClient.open(base, q, auth);
      await item(a, { title: 'rp-1', price: 1 });
      const seen = await first.wait((f) => f.event === 'record.created');
      first.close();
      await item(a, { title: 'rp-2', price: 1 });
      await item(a, { title: 'other', price: 1 });
      await item(b, { title: 'rp-b', price: 1 });
      await item(a, { title: 'rp-3', price: 1 });
      const back = await SseClient.open(base, q, { ...auth, 'last-event-id': seen.id! });
      await back.wait((f) => f.data?.data?.after?.title === 'rp-3');
      await item(a, { title: 'rp-4', price: 1 });
      await back.wait((f) => f.data?.data?.after?.title === 'rp-4');
      expect(back.events().map((f) => f.data!.data.after.title)).toEqual(['rp-2', 'rp-3', 'rp-4']);
      back.close();

      const unknown = await SseClient.open(base, `${q}&lastEventId=${randomUUID()}`, auth);
      expect((await unknown.wait((f) => f.event === 'error')).data!.error.code).toBe('REPLAY_UNAVAILABLE');
      unknown.close();
      // The same id once it has aged past the window.
      await h().db.pool.query(`update realtime_events set logged_at = now() - interval '1 hour' where event_id = $1`, [seen.id]);
      const late = await SseClient.open(base, q, { ...auth, 'last-event-id': seen.id! });
      expect((await late.wait((f) => f.event === 'error')).data!.error.code).toBe('REPLAY_UNAVAILABLE');
      late.close();
    });

    it('WebSocket resume: a subscribe with lastEventId sends what was missed first, or REPLAY_UNAVAILABLE for its subscription', async () => {
      const filter = { title: { startsWith: 'wr-' } };
      const first = await WsClient.as(base, a.viewer);
      expect((await first.subscribe('r', { channel: 'records', model: 'items', filter })).type).toBe('subscribed');
      await item(a, { title: 'wr-1', price: 1 });
      const seen = await first.wait((m) => m.type === 'event');
      first.close();
      await item(a, { title: 'wr-2', price: 1 });
      await item(a, { title: 'nope', price: 1 });
      const back = await WsClient.as(base, a.viewer);
      expect((await back.subscribe('r', { channel: 'records', model: 'items', filter, lastEventId: seen.eventId })).type).toBe('subscribed');
      await item(a, { title: 'wr-3', price: 1 });
      await back.wait((m) => m.data?.after?.title === 'wr-3');
      expect(titles(back, 'r')).toEqual(['record.created wr-2', 'record.created wr-3']);
      const gone = await back.subscribe('g', { channel: 'records', model: 'items', lastEventId: randomUUID() });
      expect(gone.type).toBe('subscribed');
      expect((await back.wait((m) => m.type === 'error' && m.id === 'g')).error.code).toBe('REPLAY_UNAVAILABLE');
      back.close();
    });
  },
  { INFINITY_REALTIME_AUTH_TIMEOUT: '300', INFINITY_REALTIME_SEND_BUFFER: String(64 * 1024) },
);

describeEachDb(
  'realtime heartbeats',
  (h) => {
    it('WebSocket pings keep a live peer and cut off one that stops answering; SSE sends comment lines', async () => {
      const base = await listening(h().built);
      const owner = await signUp(h(), 'Beat');
      const live = await WsClient.as(base, owner.token);
      const dead = await WsClient.as(base, owner.token);
      const sse = await SseClient.open(base, 'channel=notifications', { authorization: `Bearer ${owner.token}` });
      await sse.wait((f) => f.comment === 'ping');
      const socket = (dead.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      socket.pause();
      const hub = h().built.realtime;
      const count = hub.size;
      while (hub.size === count) await new Promise<Message>((r) => live.ws.once('ping', r));
      socket.resume();
      await dead.closed;
      expect(live.pings).toBeGreaterThanOrEqual(2);
      expect(live.ws.readyState).toBe(live.ws.OPEN);
      live.close();
      sse.close();
      await live.closed;
      await sse.ended;
    });

    it('a process holds at most INFINITY_REALTIME_MAX_CONNECTIONS connections', async () => {
      const base = await listening(h().built);
      const owner = await signUp(h(), 'Many');
      const hub = h().built.realtime;
      while (hub.size > 0) await new Promise((r) => setTimeout(r, 10));
      const open = [await WsClient.as(base, owner.token), await WsClient.as(base, owner.token), await WsClient.as(base, owner.token)];
      const fourth = await WsClient.open(base, { authorization: `Bearer ${owner.token}` });
      expect((await fourth.wait((m) => m.type === 'error')).error.code).toBe('REALTIME_CONNECTION_LIMIT');
      expect((await fourth.closed).code).toBe(4503);
      const sse = await SseClient.open(base, 'channel=notifications', { authorization: `Bearer ${owner.token}` });
      expect(sse.status).toBe(503);
      open[0]!.close();
      await open[0]!.closed;
      while (hub.size > 2) await new Promise((r) => setTimeout(r, 10));
      expect((await WsClient.as(base, owner.token)).inbox.items[0]!.type).toBe('authenticated');
    });
  },
  { INFINITY_REALTIME_HEARTBEAT: '100', INFINITY_REALTIME_MAX_CONNECTIONS: '3' },
);
