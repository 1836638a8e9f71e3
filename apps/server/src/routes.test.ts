/**
 * Cross-cutting guarantees over the whole route table:
 *  - every route declares who may reach it (deny by default);
 *  - no route with an id crosses organizations (a user and an API key of another org get 404);
 *  - no list shows another organization's rows;
 *  - bad input of every kind gets a 4xx in the error format and changes nothing.
 * A new route fails here until it is added to the tables below.
 */
import Fastify from 'fastify';
import { expect, it } from 'vitest';
import { registerAccessGuard } from './modules/access/index.js';
import { sendError } from './platform/http/index.js';
import { addMember, createApiKey, signUp, type TestUser } from './platform/testing/actors.js';
import { describeEachDb, type Harness } from './platform/testing/harness.js';

interface World {
  a: TestUser;
  aMember: TestUser;
  b: TestUser;
  bKey: string;
  ids: {
    orgA: string;
    memberA: string;
    invitationA: string;
    apiKeyA: string;
    secretA: string;
    agentA: string;
    conversationA: string;
    notificationA: string;
    invitationToken: string;
    recordA: string;
    actionA: string;
    runA: string;
    flowA: string;
    executionA: string;
    webhookA: string;
    deliveryA: string;
  };
  schemaA: string;
}

async function buildWorld(h: Harness): Promise<World> {
  const a = await signUp(h, 'Alice');
  const aMember = await signUp(h, 'Member of A');
  await addMember(h, a, aMember, 'editor');
  const b = await signUp(h, 'Bob');
  const bKey = (await createApiKey(h, b.token, 'admin')).key;
  const inv = (await h.request({ method: 'POST', url: '/api/v1/invitations', token: a.token, body: { email: 'pending@example.com', role: 'viewer' } })).json()
    .data;
  const key = await createApiKey(h, a.token, 'viewer');
  const secret = (
    await h.request({
      method: 'POST',
      url: '/api/v1/secrets',
      token: a.token,
      body: { name: 'a-secret', provider: 'generic', value: 'value-of-a-1234', allowedHosts: [] },
    })
  ).json().data;
  const model = await h.request({
    method: 'POST',
    url: '/api/v1/models',
    token: a.token,
    body: { name: 'a_things', fields: [{ name: 'title', type: 'string' }] },
  });
  if (model.statusCode !== 201) throw new Error(model.body);
  const record = (await h.request({ method: 'POST', url: '/api/v1/data/a_things', token: a.token, body: { title: 'private to A' } })).json().data;
  const schemaA = (await h.request({ method: 'GET', url: '/api/v1/me', token: a.token })).json().data.organization.schema as string;
  const action = (
    await h.request({
      method: 'POST',
      url: '/api/v1/actions',
      token: a.token,
      body: { name: 'a-action', steps: [{ id: 'q', op: 'query', model: 'a_things' }] },
    })
  ).json().data;
  const run = (await h.request({ method: 'POST', url: `/api/v1/actions/${action.id}/run`, token: a.token, body: {} })).json().data;
  const flow = (await h.request({ method: 'POST', url: '/api/v1/flows?template=blank', token: a.token, body: { name: 'a-flow' } })).json().data;
  const execution = (
    await h.request({ method: 'POST', url: `/api/v1/flows/${flow.id}/run?wait=true`, token: a.token, body: { input: { note: 'private to A' } } })
  ).json().data;
  const llmKey = (
    await h.request({ method: 'POST', url: '/api/v1/secrets', token: a.token, body: { name: 'a-llm', provider: 'openai', value: 'sk-private-to-a-0000' } })
  ).json().data;
  const agent = (
    await h.request({
      method: 'POST',
      url: '/api/v1/agents',
      token: a.token,
      body: { name: 'a-agent', provider: 'openai', model: 'gpt-4o-mini', secretId: llmKey.id },
    })
  ).json().data;
  const conversation = (await h.request({ method: 'POST', url: `/api/v1/agents/${agent.id}/conversations`, token: a.token, body: {} })).json().data;
  const webhook = await h.request({
    method: 'POST',
    url: '/api/v1/webhooks',
    token: a.token,
    body: { url: 'https://hooks.example.invalid/private-to-a', events: ['record.created'], model: 'a_things' },
  });
  if (webhook.statusCode !== 201) throw new Error(webhook.body);
  const webhookA = webhook.json().data.id as string;
  const deliveryA = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c';
  // A delivered delivery, written directly: nothing is sent beyond loopback in tests.
  await h.db.pool.query(
    `insert into webhook_deliveries (id, webhook_id, org_id, event_id, event_type, body, status) values ($1, $2, $3, $1, 'record.created', '{"note":"private to A"}', 'delivered')`,
    [deliveryA, webhookA, a.orgId],
  );
  const notificationA = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
  await h.db.pool.query(`insert into notifications (id, org_id, kind, title, body) values ($1, $2, 'usage.alert', 'private to A', 'private to A')`, [
    notificationA,
    a.orgId,
  ]);
  return {
    a,
    aMember,
    b,
    bKey,
    schemaA,
    ids: {
      orgA: a.orgId,
      memberA: aMember.id,
      invitationA: inv.id,
      apiKeyA: key.id,
      secretA: secret.id,
      agentA: agent.id,
      conversationA: conversation.id,
      notificationA,
      invitationToken: inv.token,
      recordA: record.id,
      actionA: action.id,
      runA: run.id,
      flowA: flow.id,
      executionA: execution.id,
      webhookA,
      deliveryA,
    },
  };
}

/** A digest of every system table: "nothing changed" means this is equal before and after. */
async function fingerprint(h: Harness, w?: World): Promise<string> {
  const tables = [
    'users',
    'organizations',
    'memberships',
    'invitations',
    'refresh_tokens',
    'api_keys',
    'org_data_keys',
    'secrets',
    'audit_log',
    'audit_heads',
    'models',
    'model_versions',
    'actions',
    'action_runs',
    'flows',
    'flow_versions',
    'executions',
    'node_runs',
    'agents',
    'conversations',
    'agent_messages',
    'notifications',
    'usage_alerts',
    'stripe_events',
    'webhooks',
    'webhook_deliveries',
    'webhook_attempts',
  ];
  const parts: string[] = [];
  // api_keys.last_used_at is written by a background flush on a timer: bookkeeping, not a change.
  const source = (t: string) =>
    t === 'api_keys' ? '(select id, org_id, name, prefix, key_hash, role, created_by, created_at, expires_at, revoked_at from api_keys)' : t;
  for (const t of tables) {
    const r = await h.db.pool.query(`select count(*)::int as n, coalesce(md5(string_agg(x::text, ',' order by x::text)), '') as d from ${source(t)} x`);
    parts.push(`${t}:${r.rows[0]!.n}:${r.rows[0]!.d}`);
  }
  if (w) {
    const r = await h.db.pool.query(
      `select count(*)::int as n, coalesce(md5(string_agg(x::text, ',' order by x::text)), '') as d from "${w.schemaA}".a_things x`,
    );
    parts.push(`a_things:${r.rows[0]!.n}:${r.rows[0]!.d}`);
  }
  return parts.join('|');
}

const fill = (url: string, w: World) =>
  url
    .replace(
      ':id',
      url.includes('/data/')
        ? w.ids.recordA
        : url.includes('/actions/')
          ? w.ids.actionA
          : url.includes('/flows/')
            ? w.ids.flowA
            : url.includes('/executions/')
              ? w.ids.executionA
              : url.includes('/agents/')
                ? w.ids.agentA
                : '00000000-0000-7000-8000-000000000000',
    )
    .replace(':cid', w.ids.conversationA)
    .replace(':n', '1')
    .replace(':name', 'a_things')
    .replace(':model', 'a_things')
    .replace(':userId', w.ids.memberA)
    .replace(':token', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');

/** For every route with a path parameter: how to aim it at organization A's resource. */
const crossOrg: Record<string, ((w: World) => { url: string; body?: unknown }) | { exempt: string }> = {
  'GET /api/v1/orgs/:id': (w) => ({ url: `/api/v1/orgs/${w.ids.orgA}` }),
  'PATCH /api/v1/orgs/:id': (w) => ({ url: `/api/v1/orgs/${w.ids.orgA}`, body: { name: 'taken over' } }),
  'DELETE /api/v1/orgs/:id': (w) => ({ url: `/api/v1/orgs/${w.ids.orgA}` }),
  'PATCH /api/v1/members/:userId': (w) => ({ url: `/api/v1/members/${w.ids.memberA}`, body: { role: 'viewer' } }),
  'DELETE /api/v1/members/:userId': (w) => ({ url: `/api/v1/members/${w.ids.memberA}` }),
  'DELETE /api/v1/invitations/:id': (w) => ({ url: `/api/v1/invitations/${w.ids.invitationA}` }),
  'POST /api/v1/invitations/:token/accept': {
    exempt: 'the token is the capability; a holder with another email is refused (INVITATION_EMAIL_MISMATCH, tested in identity)',
  },
  'DELETE /api/v1/api-keys/:id': (w) => ({ url: `/api/v1/api-keys/${w.ids.apiKeyA}` }),
  'GET /api/v1/secrets/:id': (w) => ({ url: `/api/v1/secrets/${w.ids.secretA}` }),
  'PATCH /api/v1/secrets/:id': (w) => ({ url: `/api/v1/secrets/${w.ids.secretA}`, body: { name: 'stolen' } }),
  'DELETE /api/v1/secrets/:id': (w) => ({ url: `/api/v1/secrets/${w.ids.secretA}` }),
  'GET /api/v1/models/:name': () => ({ url: '/api/v1/models/a_things' }),
  'PATCH /api/v1/models/:name': () => ({ url: '/api/v1/models/a_things', body: { label: 'taken over' } }),
  'DELETE /api/v1/models/:name': () => ({ url: '/api/v1/models/a_things' }),
  'GET /api/v1/models/:name/versions': () => ({ url: '/api/v1/models/a_things/versions' }),
  'GET /api/v1/data/:model': () => ({ url: '/api/v1/data/a_things' }),
  'POST /api/v1/data/:model': () => ({ url: '/api/v1/data/a_things', body: { title: 'injected' } }),
  'GET /api/v1/actions/:id': (w) => ({ url: `/api/v1/actions/${w.ids.actionA}` }),
  'PATCH /api/v1/actions/:id': (w) => ({ url: `/api/v1/actions/${w.ids.actionA}`, body: { name: 'taken over' } }),
  'DELETE /api/v1/actions/:id': (w) => ({ url: `/api/v1/actions/${w.ids.actionA}` }),
  'POST /api/v1/actions/:id/run': (w) => ({ url: `/api/v1/actions/${w.ids.actionA}/run`, body: {} }),
  'GET /api/v1/actions/:id/runs': (w) => ({ url: `/api/v1/actions/${w.ids.actionA}/runs` }),
  'GET /api/v1/action-runs/:id': (w) => ({ url: `/api/v1/action-runs/${w.ids.runA}` }),
  'GET /api/v1/data/:model/export': () => ({ url: '/api/v1/data/a_things/export?format=csv' }),
  'POST /api/v1/data/:model/import': () => ({ url: '/api/v1/data/a_things/import', body: [{ title: 'injected' }] }),
  'POST /api/v1/data/:model/bulk': () => ({ url: '/api/v1/data/a_things/bulk', body: { op: 'create', items: [{ title: 'injected' }] } }),
  'POST /api/v1/data/:model/search': () => ({ url: '/api/v1/data/a_things/search', body: { query: 'private', mode: 'keyword' } }),
  'GET /api/v1/models/:name/embeddings': () => ({ url: '/api/v1/models/a_things/embeddings' }),
  'GET /api/v1/data/:model/:id': (w) => ({ url: `/api/v1/data/a_things/${w.ids.recordA}` }),
  'PUT /api/v1/data/:model/:id': (w) => ({ url: `/api/v1/data/a_things/${w.ids.recordA}`, body: { title: 'overwritten' } }),
  'PATCH /api/v1/data/:model/:id': (w) => ({ url: `/api/v1/data/a_things/${w.ids.recordA}`, body: { title: 'overwritten' } }),
  'DELETE /api/v1/data/:model/:id': (w) => ({ url: `/api/v1/data/a_things/${w.ids.recordA}` }),
  'GET /api/v1/data/:model/:id/delete-impact': (w) => ({ url: `/api/v1/data/a_things/${w.ids.recordA}/delete-impact` }),
  'POST /api/v1/data/:model/delete-impact': (w) => ({ url: '/api/v1/data/a_things/delete-impact', body: { ids: [w.ids.recordA] } }),
  'GET /api/v1/flows/:id': (w) => ({ url: `/api/v1/flows/${w.ids.flowA}` }),
  'PUT /api/v1/flows/:id': (w) => ({ url: `/api/v1/flows/${w.ids.flowA}`, body: { name: 'taken over', nodes: [], edges: [] } }),
  'PATCH /api/v1/flows/:id': (w) => ({ url: `/api/v1/flows/${w.ids.flowA}`, body: { active: true } }),
  'DELETE /api/v1/flows/:id': (w) => ({ url: `/api/v1/flows/${w.ids.flowA}` }),
  'GET /api/v1/flows/:id/versions': (w) => ({ url: `/api/v1/flows/${w.ids.flowA}/versions` }),
  'GET /api/v1/flows/:id/versions/:n': (w) => ({ url: `/api/v1/flows/${w.ids.flowA}/versions/1` }),
  'POST /api/v1/flows/:id/versions/:n/restore': (w) => ({ url: `/api/v1/flows/${w.ids.flowA}/versions/1/restore` }),
  'POST /api/v1/flows/:id/run': (w) => ({ url: `/api/v1/flows/${w.ids.flowA}/run?wait=true`, body: { input: {} } }),
  'POST /api/v1/flows/:id/publish': (w) => ({ url: `/api/v1/flows/${w.ids.flowA}/publish`, body: { slug: 'stolen-flow', access: 'apiKey' } }),
  'POST /api/v1/flows/:id/unpublish': (w) => ({ url: `/api/v1/flows/${w.ids.flowA}/unpublish` }),
  'GET /api/v1/executions/:id': (w) => ({ url: `/api/v1/executions/${w.ids.executionA}` }),
  'POST /api/v1/executions/:id/cancel': (w) => ({ url: `/api/v1/executions/${w.ids.executionA}/cancel` }),
  'POST /api/v1/executions/:id/rerun': (w) => ({ url: `/api/v1/executions/${w.ids.executionA}/rerun?wait=true`, body: {} }),
  ...Object.fromEntries(
    ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']
      .flatMap((m) => [`${m} /api/v1/hooks/:flowId`, `${m} /api/v1/hooks/:flowId/*`])
      .map((k) => [
        k,
        {
          exempt:
            'a webhook URL is an address anyone may call; the trigger’s auth (none, an API key of the flow’s organization, or an HMAC signature) decides, tested in flows',
        },
      ]),
  ),
  'GET /api/v1/agents/:id': (w) => ({ url: `/api/v1/agents/${w.ids.agentA}` }),
  'PATCH /api/v1/agents/:id': (w) => ({ url: `/api/v1/agents/${w.ids.agentA}`, body: { name: 'taken over' } }),
  'DELETE /api/v1/agents/:id': (w) => ({ url: `/api/v1/agents/${w.ids.agentA}` }),
  'GET /api/v1/agents/:id/status': (w) => ({ url: `/api/v1/agents/${w.ids.agentA}/status` }),
  'POST /api/v1/agents/:id/publish': (w) => ({ url: `/api/v1/agents/${w.ids.agentA}/publish`, body: { slug: 'stolen-agent' } }),
  'POST /api/v1/agents/:id/unpublish': (w) => ({ url: `/api/v1/agents/${w.ids.agentA}/unpublish` }),
  'POST /api/v1/agents/:id/conversations': (w) => ({ url: `/api/v1/agents/${w.ids.agentA}/conversations`, body: {} }),
  'GET /api/v1/agents/:id/conversations/:cid/messages': (w) => ({ url: `/api/v1/agents/${w.ids.agentA}/conversations/${w.ids.conversationA}/messages` }),
  'POST /api/v1/agents/:id/conversations/:cid/messages': (w) => ({
    url: `/api/v1/agents/${w.ids.agentA}/conversations/${w.ids.conversationA}/messages`,
    body: { content: 'hi' },
  }),
  'POST /api/v1/notifications/:id/read': (w) => ({ url: `/api/v1/notifications/${w.ids.notificationA}/read` }),
  'GET /api/v1/webhooks/:id': (w) => ({ url: `/api/v1/webhooks/${w.ids.webhookA}` }),
  'PATCH /api/v1/webhooks/:id': (w) => ({ url: `/api/v1/webhooks/${w.ids.webhookA}`, body: { description: 'taken over' } }),
  'DELETE /api/v1/webhooks/:id': (w) => ({ url: `/api/v1/webhooks/${w.ids.webhookA}` }),
  'GET /api/v1/webhooks/:id/deliveries': (w) => ({ url: `/api/v1/webhooks/${w.ids.webhookA}/deliveries` }),
  'POST /api/v1/webhooks/:id/deliveries/:deliveryId/redeliver': (w) => ({ url: `/api/v1/webhooks/${w.ids.webhookA}/deliveries/${w.ids.deliveryA}/redeliver` }),
  'POST /api/v1/webhooks/:id/test': (w) => ({ url: `/api/v1/webhooks/${w.ids.webhookA}/test` }),
  'POST /api/v1/chat/:slug/conversations': { exempt: 'a published agent is reached by its slug by design (tested in agents)' },
  'GET /api/v1/chat/:slug/conversations/:cid/messages': { exempt: 'the signed conversation token is the capability; a wrong one is a 404 (tested in agents)' },
  'POST /api/v1/chat/:slug/conversations/:cid/messages': { exempt: 'the signed conversation token is the capability; a wrong one is a 404 (tested in agents)' },
  'POST /api/v1/executions/:id/resume': { exempt: 'the signed token in the resume URL is the capability; a wrong token is a 404 (tested in flows)' },
  'POST /api/v1/run/:slug': { exempt: 'a published flow is reached by its slug; apiKey access admits only keys of its organization (tested in flows)' },
};

/** Lists that must never show organization A's rows to B. */
const lists = [
  '/api/v1/agents',
  '/api/v1/usage',
  '/api/v1/notifications',
  '/api/v1/logs',
  '/api/v1/logs?kind=app',
  '/api/v1/stats',
  '/api/v1/billing',
  '/api/v1/orgs',
  '/api/v1/members',
  '/api/v1/invitations',
  '/api/v1/api-keys',
  '/api/v1/secrets',
  '/api/v1/audit',
  '/api/v1/models',
  '/api/v1/schema/diagram',
  '/api/v1/openapi.json',
  '/api/v1/actions',
  '/api/v1/flows',
  '/api/v1/executions',
  `/api/v1/executions?status=succeeded`,
  '/api/v1/webhooks',
];

const apiRoutes = (h: Harness) => h.built.app.routeTable.filter((r) => r.url.startsWith('/api/') || r.url.startsWith('/internal/'));

it('a route that declares no access rule is refused (deny by default)', async () => {
  const app = Fastify();
  app.setErrorHandler((err, req, reply) => sendError(req, reply, err));
  registerAccessGuard(app, async () => null);
  app.get('/forgotten', async () => ({ leaked: true }));
  const r = await app.inject({ method: 'GET', url: '/forgotten' });
  expect(r.statusCode).toBe(500);
  expect(r.json().error.code).toBe('ACCESS_NOT_DECLARED');
  expect(r.body).not.toContain('leaked');
});

describeEachDb(
  'route table',
  (h) => {
    let w: World;
    it('builds a two-organization world', async () => {
      w = await buildWorld(h());
    });

    it('every route declares its access rule', () => {
      const undeclared = h()
        .built.app.routeTable.filter((r) => !r.access)
        .map((r) => `${r.method} ${r.url}`);
      expect(undeclared).toEqual([]);
    });

    it('every route with a path parameter is in the tenant-isolation matrix', () => {
      const missing = apiRoutes(h())
        .filter((r) => r.url.includes(':') && !r.url.startsWith('/internal/'))
        .map((r) => `${r.method} ${r.url}`)
        .filter((k) => !(k in crossOrg));
      expect(missing).toEqual([]);
    });

    it('no route with an id reaches another organization, with a user token or an API key', async () => {
      const before = await fingerprint(h(), w);
      for (const [route, target] of Object.entries(crossOrg)) {
        if ('exempt' in target) continue;
        const [method] = route.split(' ');
        const { url, body } = target(w);
        for (const cred of [{ token: w.b.token }, { apiKey: w.bKey }]) {
          const r = await h().request({ method: method!, url, body, ...cred });
          expect(r.statusCode, `${route} as ${Object.keys(cred)[0]}: ${r.body}`).toBe(404);
          expect(r.json().error.code).toMatch(/NOT_FOUND$/);
          expect(r.body).not.toContain('a-secret');
          expect(r.body).not.toContain('private to A');
        }
      }
      expect(await fingerprint(h(), w)).toBe(before);
    });

    it('no list shows another organization’s rows', async () => {
      const aIds = Object.values(w.ids);
      for (const url of lists) {
        for (const cred of [{ token: w.b.token }, { apiKey: w.bKey }]) {
          const r = await h().request({ method: 'GET', url, ...cred });
          expect(r.statusCode, `${url}: ${r.body}`).toBe(200);
          for (const id of aIds) expect(r.body, `${url} leaks ${id}`).not.toContain(id);
          expect(r.body, `${url} leaks a model`).not.toContain('a_things');
          expect(r.body).not.toContain(w.a.email);
        }
      }
    });

    it('every list answers one meta shape { total, limit, offset, nextCursor } and honours limit and offset', async () => {
      const found: string[] = [];
      for (const route of apiRoutes(h()).filter((r) => r.method === 'GET' && !r.url.startsWith('/internal/'))) {
        // NB: fill() replaces ':n' before ':name'.
        const url = fill(route.url.replace(':name', 'a_things'), w);
        const r = await h().request({ method: 'GET', url, token: w.a.token });
        if (r.statusCode !== 200 || !String(r.headers['content-type']).includes('json')) continue;
        const body = r.json<{ data?: unknown; meta?: Record<string, unknown> }>();
        if (!Array.isArray(body.data)) continue;
        found.push(route.url);
        // Notifications add their unread count; nothing else differs.
        const keys = ['limit', 'nextCursor', 'offset', 'total', ...(route.url === '/api/v1/notifications' ? ['unread'] : [])].sort();
        expect(Object.keys(body.meta ?? {}).sort(), route.url).toEqual(keys);
        // Records count on request (count=exact): their total is null otherwise; every other list counts.
        if (route.url === '/api/v1/data/:model') expect(body.meta!.total).toBeNull();
        else expect(body.meta!.total, `${route.url} total`).toEqual(expect.any(Number));
        expect(body.meta!.offset, route.url).toBe(0);
        expect(body.meta!.limit, route.url).toEqual(expect.any(Number));
        expect(body.data.length, route.url).toBeLessThanOrEqual(body.meta!.limit as number);
        const paged = await h().request({ method: 'GET', url: `${url}${url.includes('?') ? '&' : '?'}limit=1&offset=1`, token: w.a.token });
        expect(paged.statusCode, `${route.url}?limit=1&offset=1: ${paged.body.slice(0, 200)}`).toBe(200);
        const p = paged.json<{ data: unknown[]; meta: Record<string, unknown> }>();
        expect(p.meta, route.url).toMatchObject({ limit: 1, offset: 1 });
        expect(p.data.length, route.url).toBeLessThanOrEqual(1);
        expect(p.meta.nextCursor === null || typeof p.meta.nextCursor === 'string', route.url).toBe(true);
      }
      const expected = [
        '/api/v1/orgs',
        '/api/v1/members',
        '/api/v1/invitations',
        '/api/v1/api-keys',
        '/api/v1/secrets',
        '/api/v1/models',
        '/api/v1/models/:name/versions',
        '/api/v1/data/:model',
        '/api/v1/actions',
        '/api/v1/actions/:id/runs',
        '/api/v1/agents',
        '/api/v1/agents/:id/conversations/:cid/messages',
        '/api/v1/flows',
        '/api/v1/flows/:id/versions',
        '/api/v1/executions',
        '/api/v1/node-types',
        '/api/v1/audit',
        '/api/v1/logs',
        '/api/v1/notifications',
      ];
      expect(found.sort()).toEqual(expect.arrayContaining(expected));
    });

    it('internal operator routes refuse every ordinary credential', async () => {
      for (const r of apiRoutes(h()).filter((x) => x.url.startsWith('/internal/'))) {
        for (const cred of [{ token: w.a.token }, { apiKey: w.bKey }, {}]) {
          const res = await h().request({ method: r.method, url: r.url, body: {}, ...cred });
          expect(res.statusCode, `${r.method} ${r.url}`).toBe(401);
        }
      }
    });

    it('bad input on every route with a body → 4xx in the error format, nothing changed', async () => {
      // Inbound triggers take any payload by design (it is the caller's data, passed to the flow);
      // their own hostile-input cases are in flows.test.
      const inbound = (url: string) =>
        url.startsWith('/api/v1/hooks/') || url.startsWith('/api/v1/run/') || url.startsWith('/api/v1/chat/') || url.endsWith('/resume');
      const writes = apiRoutes(h()).filter((r) => ['POST', 'PUT', 'PATCH'].includes(r.method) && !r.url.startsWith('/internal/') && !inbound(r.url));
      expect(writes.length).toBeGreaterThan(10);
      const huge = JSON.stringify({ name: 'x'.repeat(70_000) });
      const long = 'x'.repeat(10_000);
      const cases: [string, { payload: string; type?: string }, number[]][] = [
        ['malformed JSON', { payload: '{"name": "x",' }, [400]],
        ['JSON with a trailing garbage', { payload: '{"name":"x"} trailing' }, [400]],
        // An array is an import's shape: its rows are then refused one by one (422).
        ['an array instead of an object', { payload: '[1,2,3]' }, [400, 422]],
        ['a bare string', { payload: '"hello"' }, [400]],
        // 422: a record body that is valid JSON but breaks the model's fields.
        ['an unknown field', { payload: JSON.stringify({ __unknown_field__: 1 }) }, [400, 422]],
        [
          'wrong types everywhere',
          {
            payload: JSON.stringify({
              name: 1,
              email: [],
              password: {},
              role: 7,
              value: true,
              provider: null,
              organizationId: 5,
              expiresAt: 'soon',
              baseUrl: 3,
              title: 5,
              op: 'x',
              items: 1,
            }),
          },
          [400, 422],
        ],
        [
          'SQL in every string',
          {
            payload: JSON.stringify({
              name: "x'); drop table users; --",
              email: "a@b.c' or 1=1 --",
              password: "' or ''='",
              role: "owner'--",
              organizationId: "1' or '1'='1",
              provider: "openai'; --",
              value: "'; delete from secrets; --",
              rename: 'x; drop',
            }),
          },
          [400, 401, 403, 409, 422],
        ],
        [
          'overlong strings',
          { payload: JSON.stringify({ name: long, email: `${long}@x.io`, password: long, value: long, role: long, label: long }) },
          [400, 422],
        ],
        ['prototype pollution', { payload: '{"__proto__": {"admin": true}, "name": "x"}' }, [400]],
        // PostgreSQL stores no U+0000 in text or jsonb: refused before anything reaches it.
        [
          'an unpaired surrogate in every string',
          {
            payload:
              '{"name":"a\\ud800b","email":"a\\udc00@b.io","password":"long p\\ud800ssword","value":"v\\ud800","title":"t\\ud800","label":"l\\ud800","role":"editor\\ud800"}',
          },
          [400, 401, 403],
        ],
        [
          'the NUL character in every string',
          {
            payload:
              '{"name":"a\\u0000b","email":"a\\u0000@b.io","password":"long p\\u0000ssword","value":"v\\u0000","title":"t\\u0000","label":"l\\u0000","role":"editor\\u0000"}',
          },
          [400, 401, 403],
        ],
        ['a body over the size limit', { payload: huge }, [413]],
        ['a non-JSON content type', { payload: 'name=x', type: 'text/plain' }, [415]],
      ];
      const before = await fingerprint(h(), w);
      for (const route of writes) {
        const url = fill(route.url, w);
        const token = route.url.includes('/orgs/') || route.url.endsWith('/orgs') ? w.b.token : w.a.token;
        for (const [label, c, statuses] of cases) {
          const r = await h().request({ method: route.method, url, token, payload: c.payload, headers: { 'content-type': c.type ?? 'application/json' } });
          const where = `${route.method} ${route.url} with ${label}: ${r.statusCode} ${r.body.slice(0, 200)}`;
          expect(statuses, where).toContain(r.statusCode);
          const err = r.json().error;
          expect(typeof err.code, where).toBe('string');
          expect(typeof err.message, where).toBe('string');
          expect(r.body, where).not.toMatch(/at .+\.(ts|js):\d+/);
        }
      }
      expect(await fingerprint(h(), w)).toBe(before);
      expect(({} as Record<string, unknown>).admin).toBeUndefined();
    });

    it('refuses the NUL character in a query string with where it was', async () => {
      const r = await h().request({ method: 'GET', url: '/api/v1/flows?q=a%00b', token: w.a.token });
      expect(r.statusCode, r.body).toBe(400);
      expect(r.json().error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field: 'query.q', code: 'nul_character' }] });
    });

    it('unknown routes and methods answer 404 in the error format', async () => {
      for (const [method, url] of [
        ['GET', '/api/v1/nope'],
        ['DELETE', '/api/v1/me'],
        ['GET', '/api/v1/orgs/not-a-uuid'],
      ] as const) {
        const r = await h().request({ method, url, token: w.a.token });
        expect([400, 404]).toContain(r.statusCode);
        expect(r.json().error.code).toMatch(/ROUTE_NOT_FOUND|VALIDATION_FAILED/);
        expect(r.headers['x-request-id']).toBeTruthy();
      }
    });
  },
  { INFINITY_BODY_LIMIT: '65536', INFINITY_IMPORT_LIMIT: '65536' },
);
