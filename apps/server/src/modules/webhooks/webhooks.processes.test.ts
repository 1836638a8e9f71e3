import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../platform/db/index.js';
import { signUp } from '../../platform/testing/actors.js';
import { testBackends } from '../../platform/testing/backends.js';
import { type Harness, createHarness, openTestDatabase, testKeys } from '../../platform/testing/harness.js';
import { startReceiver } from '../../platform/testing/webhook-receiver.js';

/**
 * Two processes on one PostgreSQL database: a subscription made on A reaches B's index through
 * webhook.changed (broadcast to every process), so a record B writes is delivered; deleting it on
 * A takes it out of B's index.
 */
describe.runIf(testBackends().includes('postgres'))('outbound webhooks across processes [postgres]', () => {
  let a: Harness;
  let b: Harness;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    receiver = await startReceiver();
    const db = await openTestDatabase('postgres');
    const env = { DATABASE_URL: db.url!, INFINITY_HTTP_ALLOW: '127.0.0.1/32' };
    const keys = testKeys();
    a = await createHarness('postgres', env, { db, keys });
    b = await createHarness('postgres', env, { db: await openDatabase({ postgresUrl: db.url!, poolSize: 5 }), keys });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await receiver?.close();
  });
  /** Waits (on a condition, not a fixed time) until B's index says whether the subscription is there. */
  const onB = async (orgId: string, present: boolean) => {
    const e = { type: 'record.created' as const, orgId, model: 'items' };
    while (b.built.webhooks.index.matching(e).length > 0 !== present) await new Promise((r) => setTimeout(r, 10));
  };

  it('a subscription made on A delivers what B writes; deleted on A, B stops writing deliveries for it', async () => {
    const owner = await signUp(a, 'Owner');
    const asOwner = (h: Harness, method: string, url: string, body?: unknown) =>
      h.request({ method, url, token: owner.token, ...(body !== undefined ? { body } : {}) });
    expect((await asOwner(a, 'POST', '/api/v1/models', { name: 'items', fields: [{ name: 'title', type: 'string' }] })).statusCode).toBe(201);
    const w = await asOwner(a, 'POST', '/api/v1/webhooks', { url: receiver.url('/two'), events: ['record.created'], model: 'items' });
    expect(w.statusCode, w.body).toBe(201);
    await onB(owner.orgId, true);
    const rec = (await asOwner(b, 'POST', '/api/v1/data/items', { title: 'written on B' })).json().data;
    const got = await receiver.inbox.wait((r) => r.path === '/two');
    expect(got.json.data.record).toMatchObject({ id: rec.id, title: 'written on B' });

    expect((await asOwner(a, 'DELETE', `/api/v1/webhooks/${w.json().data.id as string}`)).statusCode).toBe(204);
    await onB(owner.orgId, false);
    await asOwner(b, 'POST', '/api/v1/data/items', { title: 'after delete' });
    for (const h of [a, b]) {
      await h.built.events.settled();
      await h.built.webhooks.settled();
    }
    expect(receiver.inbox.items.filter((r) => r.path === '/two')).toHaveLength(1);
  });
});
