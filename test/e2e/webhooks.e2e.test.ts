/**
 * Outbound webhooks survive a crash (issue #27): the server as a real process, a receiver on
 * loopback, records written continuously, `kill -9` mid-stream, a restart on the same data. Every
 * committed record is delivered (the delivery is in the outbox of the record's transaction), and a
 * record delivered twice always carries the same webhook-id (so receivers deduplicate on it).
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { testBackends } from '../../apps/server/src/platform/testing/backends.js';
import { startReceiver, verifyDelivery } from '../../apps/server/src/platform/testing/webhook-receiver.js';
import { e2eEnv, startServer, until } from './server-process.js';

for (const backend of testBackends()) {
  describe(`outbound webhooks across a crash [${backend}]`, () => {
    it('delivers every committed record after kill -9 and a restart, never under two webhook-ids', { timeout: 240_000 }, async () => {
      const receiver = await startReceiver();
      const env: Record<string, string> = { ...(await e2eEnv(backend, 'webhooks-crash')), INFINITY_HTTP_ALLOW: '127.0.0.1/32' };
      let s = await startServer([], env);
      try {
        const signup = await fetch(`${s.url}/api/v1/auth/signup`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'Ops', email: 'ops@example.com', password: 'ops password 1' }),
        });
        const token = ((await signup.json()) as { data: { accessToken: string } }).data.accessToken;
        const call = async (base: string, method: string, p: string, body?: unknown) => {
          const r = await fetch(`${base}/api/v1${p}`, {
            method,
            headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
            ...(body ? { body: JSON.stringify(body) } : {}),
          });
          const text = await r.text();
          return { status: r.status, json: text ? (JSON.parse(text) as { data: Record<string, unknown> }) : undefined };
        };
        expect((await call(s.url, 'POST', '/models', { name: 'items', fields: [{ name: 'n', type: 'integer' }] })).status).toBe(201);
        const hook = await call(s.url, 'POST', '/webhooks', { url: receiver.url('/crash'), events: ['record.created'], model: 'items' });
        expect(hook.status).toBe(201);
        const secret = hook.json!.data.secret as string;

        // Four writers until the kill; the kill lands once 150 writes were answered, with writes in flight.
        const answered: string[] = [];
        let killed = false;
        const base = s.url;
        const writer = async (w: number) => {
          for (let i = 0; !killed; i++) {
            const r = await call(base, 'POST', '/data/items', { n: w * 100_000 + i }).catch(() => undefined);
            if (r?.status === 201) answered.push(r.json!.data.id as string);
          }
        };
        const writers = [0, 1, 2, 3].map(writer);
        await until('150 committed writes', async () => answered.length >= 150, 60_000, 20);
        s.proc.kill('SIGKILL');
        killed = true;
        await Promise.all(writers);
        await new Promise<void>((resolve) => (s.proc.exitCode !== null || s.proc.signalCode !== null ? resolve() : s.proc.once('exit', () => resolve())));

        s = await startServer([], env);
        // What committed is what the restarted server has (a write whose answer was lost may have committed too).
        const committed = new Set<string>();
        for (let cursor: string | null = null; ;) {
          const page = await call(s.url, 'GET', `/data/items?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
          for (const r of page.json!.data as unknown as { id: string }[]) committed.add(r.id);
          cursor = (page.json as unknown as { meta: { nextCursor: string | null } }).meta.nextCursor;
          if (!cursor) break;
        }
        for (const id of answered) expect(committed.has(id), `answered write ${id} is committed`).toBe(true);
        // Rows leased by the killed process come back when their lease (60 s) lapses.
        const idsOf = () => new Set(receiver.inbox.items.map((r) => (r.json.data.record as { id: string }).id));
        await until('every committed record delivered', async () => [...committed].every((id) => idsOf().has(id)), 180_000, 250).catch(async (err: unknown) => {
          // Say where the missing ones are: still in the outbox, or a delivery waiting for a retry.
          const missing = [...committed].filter((id) => !idsOf().has(id));
          let state: unknown = 'embedded database (no second connection)';
          if (env.DATABASE_URL) {
            const c = new pg.Client({ connectionString: env.DATABASE_URL });
            await c.connect();
            const outbox = await c.query(
              `select payload->>'recordId' as record, consumers, attempts, available_at, last_error, parked_at from event_outbox where payload->>'recordId' = any($1)`,
              [missing],
            );
            const deliveries = await c.query(
              `select body::jsonb->'data'->'record'->>'id' as record, status, attempts, next_attempt_at, last_status_code, last_error from webhook_deliveries where body::jsonb->'data'->'record'->>'id' = any($1)`,
              [missing],
            );
            await c.end();
            state = { now: new Date().toISOString(), outbox: outbox.rows, deliveries: deliveries.rows };
          }
          throw new Error(`${String(err)}: ${missing.length} of ${committed.size} missing; ${JSON.stringify(state)}`);
        });

        const webhookIds = new Map<string, Set<string>>();
        for (const r of receiver.inbox.items) {
          verifyDelivery(secret, r);
          const id = (r.json.data.record as { id: string }).id;
          expect(committed.has(id), `delivered ${id} was committed`).toBe(true);
          const set = webhookIds.get(id) ?? new Set<string>();
          set.add(String(r.headers['webhook-id']));
          webhookIds.set(id, set);
        }
        const twice = [...webhookIds.entries()].filter(([, ids]) => ids.size > 1);
        expect(twice, 'a record delivered under two webhook-ids').toEqual([]);
        expect(webhookIds.size).toBe(committed.size);
        console.log(
          `[${backend}] webhooks crash test: ${committed.size} committed, ${answered.length} answered before the kill, ${receiver.inbox.items.length} deliveries received (${receiver.inbox.items.length - committed.size} repeats, same webhook-id)`,
        );
      } finally {
        await s.stop('SIGKILL').catch(() => undefined);
        await receiver.close();
      }
    });
  });
}
