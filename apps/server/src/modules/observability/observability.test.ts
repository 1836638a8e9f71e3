import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createApiKey, signUp } from '../../platform/testing/actors.js';
import { describeEachDb } from '../../platform/testing/harness.js';
import { parsePrometheus } from '../../platform/testing/prometheus.js';
import { appEntryOf } from './log-store.js';

const METRICS_TOKEN = 'metrics-token-for-tests-0123456789';

describe('app log lines', () => {
  it('keeps warnings and errors with their request id, org, stack and data; drops the rest', () => {
    const org = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
    const e = appEntryOf(
      JSON.stringify({
        level: 'error',
        time: '2026-12-01T10:00:00.000Z',
        service: 'infinity',
        requestId: 'req-1',
        org,
        msg: 'request failed',
        err: { message: 'boom', stack: 'Error: boom\n    at x' },
        code: 'INTERNAL',
      }),
    );
    expect(e).toMatchObject({
      level: 'error',
      request_id: 'req-1',
      org_id: org,
      message: 'request failed',
      data: { err: { stack: 'Error: boom\n    at x' }, code: 'INTERNAL' },
    });
    expect(appEntryOf(JSON.stringify({ level: 'info', msg: 'request' }))).toBeNull();
    expect(appEntryOf('not json')).toBeNull();
    expect(appEntryOf(JSON.stringify({ level: 'warn', msg: 'x', org: 'not-a-uuid' }))?.org_id).toBeNull();
  });
});

describeEachDb(
  'operations: request log, app log, stats, metrics, rate limits',
  (h) => {
    let operators = 0;
    /** Each test's own organization (so any test runs alone): its owner, an admin API key and a request helper. */
    async function operator() {
      // Signed up from an address of its own: sign-up is a public route, limited per address to 5 here.
      operators++;
      const signup = await h().request({
        method: 'POST',
        url: '/api/v1/auth/signup',
        headers: { 'x-forwarded-for': `198.18.0.${operators}` },
        body: { name: 'Operator', email: `operator${operators}.${randomUUID()}@example.com`, password: `pw-${randomUUID()}` },
      });
      expect(signup.statusCode, signup.body).toBe(201);
      const owner = { token: signup.json().data.accessToken as string, orgId: signup.json().data.organization.id as string };
      const key = (await createApiKey(h(), owner.token, 'admin')).key;
      const req = (method: string, url: string, body?: unknown, headers?: Record<string, string>) =>
        h().request({ method, url, apiKey: key, body, ...(headers ? { headers } : {}) });
      return { owner, key, req };
    }

    /** Nine requests of an API client: a model, five records, a filtered read, a refused write (400) and an unknown model (404). */
    async function traffic(req: Awaited<ReturnType<typeof operator>>['req']) {
      await req('POST', '/api/v1/models', { name: 'items', fields: [{ name: 'title', type: 'string', required: true }] });
      for (let i = 0; i < 5; i++) await req('POST', '/api/v1/data/items', { title: `Item ${i}` });
      await req('GET', '/api/v1/data/items?filter[title][eq]=secret-looking-value');
      const failedId = `find-me-${randomUUID()}`;
      const failed = await req('POST', '/api/v1/data/items', { title: 42, password: 'hunter2-not-logged' }, { 'x-request-id': failedId });
      expect(failed.statusCode).toBe(400);
      await req('GET', '/api/v1/data/nothing-here');
      await h().built.logs.flush();
      return { failedId };
    }

    it('stores every request (never bodies or query strings) and finds a failed one by its request id', async () => {
      const { key, req } = await operator();
      const { failedId } = await traffic(req);

      const found = (await req('GET', `/api/v1/logs?requestId=${failedId}`)).json();
      expect(found.data).toHaveLength(1);
      expect(found.data[0]).toMatchObject({
        kind: 'request',
        requestId: failedId,
        method: 'POST',
        route: '/api/v1/data/:model',
        status: 400,
        actor: { kind: 'api_key' },
      });
      expect(found.data[0].durationMs).toBeGreaterThan(0);
      const errors = (await req('GET', '/api/v1/logs?status=4xx')).json();
      expect(errors.data.map((r: { status: number }) => r.status).sort()).toEqual([400, 404]);
      const byRoute = (await req('GET', `/api/v1/logs?route=${encodeURIComponent('/api/v1/data/:model')}&method=POST&limit=3`)).json();
      expect(byRoute.meta).toMatchObject({ total: 6, limit: 3 });
      expect(byRoute.data).toHaveLength(3);
      const rows = JSON.stringify((await req('GET', '/api/v1/logs?limit=1000')).json());
      expect(rows).not.toMatch(/hunter2|secret-looking-value/);
      expect(rows).not.toContain(key);
      // Bad filters are refused.
      expect((await req('GET', '/api/v1/logs?status=6xx')).statusCode).toBe(400);
      expect((await req('GET', '/api/v1/logs?from=yesterday')).statusCode).toBe(400);
    });

    it('warnings and errors of the organization land in the app log, with the stack', async () => {
      const { owner, req } = await operator();
      h().built.app.log.error({ org: owner.orgId, requestId: 'req-app-1', err: new Error('disk on fire') }, 'backup failed');
      h().built.app.log.warn({ org: owner.orgId }, 'slow query');
      h().built.app.log.error({ requestId: 'no-org' }, 'instance-level problem');
      await h().built.logs.flush();
      const all = (await req('GET', '/api/v1/logs?kind=app')).json();
      expect(all.data.map((l: { message: string }) => l.message)).toEqual(['slow query', 'backup failed']);
      const errors = (await req('GET', '/api/v1/logs?kind=app&level=error&q=fire')).json().data;
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ level: 'error', requestId: 'req-app-1', service: 'infinity' });
      expect(errors[0].data.err.stack).toMatch(/Error: disk on fire/);
      // Another organization sees none of it.
      const other = await signUp(h());
      expect((await h().request({ method: 'GET', url: '/api/v1/logs?kind=app', token: other.token })).json().data).toEqual([]);
      expect(
        (await h().request({ method: 'GET', url: '/api/v1/logs', token: other.token }))
          .json()
          .data.every((r: { actor: { id: string } | null }) => r.actor?.id === other.id || r.actor === null),
      ).toBe(true);
    });

    it('stats: request volume, error rate, latency percentiles, executions and tokens per bucket', async () => {
      const { req } = await operator();
      await traffic(req);
      const s = (await req('GET', '/api/v1/stats?interval=1h')).json().data;
      expect(s.intervalSeconds).toBe(3600);
      expect(s.requests).toHaveLength(24);
      const busy = s.requests.filter((b: { count: number }) => b.count > 0);
      expect(busy.length).toBeGreaterThanOrEqual(1);
      const total = busy.reduce((a: number, b: { count: number }) => a + b.count, 0);
      expect(total).toBe(s.totals.requests);
      expect(s.totals.requests).toBeGreaterThanOrEqual(9);
      const b = busy.at(-1);
      expect(b.p50).toBeGreaterThan(0);
      expect(b.p99).toBeGreaterThanOrEqual(b.p50);
      expect(s.executions[0]).toEqual(expect.objectContaining({ succeeded: 0, failed: 0 }));
      expect(s.tokens[0]).toEqual(expect.objectContaining({ input: 0, output: 0 }));
      const bad = await req('GET', '/api/v1/stats?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z');
      expect(bad.json().error.code).toBe('STATS_RANGE_INVALID');
      expect((await req('GET', '/api/v1/stats?from=2025-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&interval=1m')).statusCode).toBe(422);
    });

    it('/metrics needs the metrics token and is Prometheus text', async () => {
      await traffic((await operator()).req);
      expect((await h().request({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
      expect((await h().request({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer wrong-token-wrong-token' } })).statusCode).toBe(401);
      const r = await h().request({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      expect(r.statusCode).toBe(200);
      expect(r.headers['content-type']).toMatch(/^text\/plain/);
      const samples = parsePrometheus(r.body);
      expect(
        [...samples.keys()].some(
          (k) => k.startsWith('infinity_http_request_duration_seconds_count{') && k.includes('route="/api/v1/data/:model"') && k.includes('status="400"'),
        ),
      ).toBe(true);
      expect(samples.get('infinity_queue_depth')).toBe(0);
      expect(samples.has('infinity_process_resident_memory_bytes')).toBe(true);
      expect(samples.has('infinity_db_pool_connections{state="total"}')).toBe(true);
    });

    it('rate limits: public routes per address, API keys by their own limit, with RateLimit-* headers and Retry-After', async () => {
      const { req } = await operator();
      const hit = (headers: Record<string, string> = {}) =>
        h().request({
          method: 'POST',
          url: '/api/v1/hooks/00000000-0000-7000-8000-000000000000',
          body: {},
          headers: { 'x-forwarded-for': '203.0.113.7', ...headers },
        });
      for (let i = 0; i < 5; i++) {
        const r = await hit();
        expect(r.statusCode).toBe(404);
        expect(r.headers['ratelimit-limit']).toBe('5');
        expect(r.headers['ratelimit-remaining']).toBe(String(4 - i));
      }
      const limited = await hit();
      expect(limited.statusCode).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(limited.json().error).toMatchObject({ code: 'RATE_LIMITED', details: { limit: 5 } });
      // Another address has its own count.
      expect((await hit({ 'x-forwarded-for': '203.0.113.8' })).statusCode).toBe(404);

      // A key created with its own limit; other keys are unlimited by default.
      const limitedKey = (await req('POST', '/api/v1/api-keys', { name: 'zapier', role: 'viewer', rateLimit: 2 })).json().data;
      expect(limitedKey.rateLimit).toBe(2);
      const asKey = () => h().request({ method: 'GET', url: '/api/v1/models', apiKey: limitedKey.key });
      expect((await asKey()).statusCode).toBe(200);
      expect((await asKey()).statusCode).toBe(200);
      expect((await asKey()).statusCode).toBe(429);
      for (let i = 0; i < 5; i++) expect((await req('GET', '/api/v1/models')).statusCode).toBe(200);
      // Probes are never limited.
      for (let i = 0; i < 8; i++)
        expect((await h().request({ method: 'GET', url: '/health/live', headers: { 'x-forwarded-for': '203.0.113.7' } })).statusCode).toBe(200);
      // A per-route limit: login, 3 a minute per address.
      const login = () =>
        h().request({
          method: 'POST',
          url: '/api/v1/auth/login',
          body: { email: 'nobody@example.com', password: 'wrong-password-1' },
          headers: { 'x-forwarded-for': '198.51.100.1' },
        });
      for (let i = 0; i < 3; i++) expect((await login()).headers['ratelimit-limit']).toBe('3');
      expect((await login()).statusCode).toBe(429);
    });
  },
  {
    INFINITY_METRICS_TOKEN: METRICS_TOKEN,
    INFINITY_PUBLIC_RATE_LIMIT: '5',
    INFINITY_TRUST_PROXY: 'true',
    INFINITY_RATE_LIMIT_ROUTES: 'POST /api/v1/auth/login=3',
    INFINITY_LOGIN_MAX_FAILURES: '100',
  },
);
