/**
 * Operations as users run them: two server processes sharing PostgreSQL and Redis, loaded from
 * this (another) process: the public rate limit is one count across instances; the request log,
 * the stats series and the Prometheus scrape reflect a mixed workload.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../apps/server/src/platform/testing/backends.js';
import { parsePrometheus } from '../../apps/server/src/platform/testing/prometheus.js';
import { type RunningServer, e2eEnv, startServer, until } from './server-process.js';

type Json = Record<string, any>;

async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await r.text();
  let json: Json = {};
  try {
    json = text ? (JSON.parse(text) as Json) : {};
  } catch {
    json = { text };
  }
  return { status: r.status, json, text, headers: r.headers };
}

const METRICS_TOKEN = randomBytes(24).toString('hex');

describe.runIf(testBackends().includes('postgres'))('operations across two instances with Redis [postgres]', () => {
  let a: RunningServer;
  let b: RunningServer;

  beforeAll(async () => {
    const env = {
      ...(await e2eEnv('postgres', 'ops')),
      DATABASE_POOL_SIZE: '4',
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      INFINITY_TRUST_PROXY: 'true',
      INFINITY_METRICS_TOKEN: METRICS_TOKEN,
      INFINITY_DEFAULT_PLAN: 'free',
    };
    a = await startServer([], env);
    b = await startServer([], env);
  }, 120_000);
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
  });

  it('100 requests a minute per address on a public endpoint, one count across both instances, with RateLimit-* headers', async () => {
    // A fresh client address for this run, so counts of earlier runs in Redis do not matter.
    const ip = `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;
    const statuses: number[] = [];
    const remaining: number[] = [];
    let retryAfter = 0;
    for (let i = 0; i < 150; i++) {
      const base = i % 2 ? b.url : a.url;
      const r = await call(base, 'POST', '/api/v1/hooks/00000000-0000-7000-8000-000000000000', {}, { 'x-forwarded-for': ip });
      statuses.push(r.status);
      expect(r.headers.get('ratelimit-limit')).toBe('100');
      if (r.status !== 429) remaining.push(Number(r.headers.get('ratelimit-remaining')));
      else {
        retryAfter = Number(r.headers.get('retry-after'));
        expect(r.json.error.code).toBe('RATE_LIMITED');
      }
    }
    expect(statuses.slice(0, 100).every((s) => s === 404)).toBe(true);
    expect(statuses.slice(100).every((s) => s === 429)).toBe(true);
    expect(remaining).toEqual(Array.from({ length: 100 }, (_, i) => 99 - i));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Another address is not affected.
    expect(
      (await call(a.url, 'POST', '/api/v1/hooks/00000000-0000-7000-8000-000000000000', {}, { 'x-forwarded-for': `${ip.split('.').slice(0, 3).join('.')}.0` }))
        .status,
    ).toBe(404);
  });

  it('after a mixed workload the request log finds a failed request by id, stats have series, /metrics is Prometheus text', async () => {
    const email = `ops-${Date.now()}@example.com`;
    const su = await call(a.url, 'POST', '/api/v1/auth/signup', { name: 'Ops', email, password: 'correct horse battery' });
    expect(su.status).toBe(201);
    const auth = { authorization: `Bearer ${su.json.data.accessToken as string}` };
    expect((await call(a.url, 'POST', '/api/v1/models', { name: 'orders', fields: [{ name: 'total', type: 'number', required: true }] }, auth)).status).toBe(
      201,
    );
    for (let i = 0; i < 10; i++) expect((await call(i % 2 ? b.url : a.url, 'POST', '/api/v1/data/orders', { total: i }, auth)).status).toBe(201);
    const requestId = `failed-${randomBytes(6).toString('hex')}`;
    const failed = await call(b.url, 'POST', '/api/v1/data/orders', { total: 'many' }, { ...auth, 'x-request-id': requestId });
    expect(failed.status).toBe(422);
    expect(failed.headers.get('x-request-id')).toBe(requestId);
    const flow = await call(a.url, 'POST', '/api/v1/flows?template=blank', { name: 'noop' }, auth);
    expect((await call(a.url, 'POST', `/api/v1/flows/${flow.json.data.id as string}/run?wait=true`, { input: {} }, auth)).status).toBe(200);

    // Rows are written in batches off the request path (every second): wait for them to land.
    const row = await until('the failed request in the log', async () => {
      const r = await call(a.url, 'GET', `/api/v1/logs?requestId=${requestId}`, undefined, auth);
      return r.json.data?.[0] as Json | undefined;
    });
    expect(row).toMatchObject({ requestId, method: 'POST', route: '/api/v1/data/:model', status: 422, actor: { kind: 'user' } });
    // Each instance flushes its own rows: wait until both instances' requests are counted.
    const stats = await until('both instances in the stats', async () => {
      const s = (await call(b.url, 'GET', '/api/v1/stats?interval=5m', undefined, auth)).json.data as Json;
      return s.totals.requests >= 14 && s;
    });
    expect(stats.requests.some((x: Json) => x.count > 0 && x.p95 > 0)).toBe(true);
    expect(stats.executions.some((x: Json) => x.succeeded > 0)).toBe(true);
    expect(stats.totals.errors).toBe(0);

    for (const s of [a, b]) {
      expect((await call(s.url, 'GET', '/metrics')).status).toBe(401);
      const m = await call(s.url, 'GET', '/metrics', undefined, { authorization: `Bearer ${METRICS_TOKEN}` });
      expect(m.status).toBe(200);
      const samples = parsePrometheus(m.text);
      expect([...samples.keys()].some((k) => k.startsWith('infinity_http_request_duration_seconds_bucket{'))).toBe(true);
      expect(samples.has('infinity_queue_depth')).toBe(true);
      expect(samples.has('infinity_db_pool_connections{state="total"}')).toBe(true);
    }
    const ma = parsePrometheus((await call(a.url, 'GET', '/metrics', undefined, { authorization: `Bearer ${METRICS_TOKEN}` })).text);
    expect(ma.get('infinity_executions_total{status="succeeded"}')).toBeGreaterThanOrEqual(1);
  });
});
