import type { EventOf } from '@infinity/contracts';
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { addMember, signUp, type TestUser } from '../../platform/testing/actors.js';
import { fakeSmtp, forSuite } from '../../platform/testing/fake-services.js';
import { describeEachDb } from '../../platform/testing/harness.js';
import { startReceiver } from '../../platform/testing/webhook-receiver.js';
import { MAX_ATTEMPTS, RETRY_DELAYS_MS } from './index.js';
import { retryDelayMs } from './webhooks.sender.js';

/**
 * Retries on an injected clock (no waiting), disabling after about a day of failures, and the
 * subscription's authority checked at each delivery: a revoked key or a demoted creator stops it,
 * and the admins are told.
 */
describe('the retry schedule', () => {
  it('spreads about a day of retries with ±20% jitter, then stops', () => {
    expect(RETRY_DELAYS_MS.reduce((a, b) => a + b, 0) / 3_600_000).toBeGreaterThan(23);
    expect(retryDelayMs(1, 0)).toBe(4000);
    expect(retryDelayMs(1, 0.5)).toBe(5000);
    expect(retryDelayMs(1, 1)).toBe(6000);
    expect(retryDelayMs(10, 0.5)).toBe(28_800_000);
    expect(retryDelayMs(MAX_ATTEMPTS, 0.5)).toBeNull();
  });
});

const smtp = forSuite(fakeSmtp);

describeEachDb(
  'outbound webhooks: retries and authority',
  (h) => {
    let owner: TestUser;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    const status = new Map<string, number>();
    let now = Date.now();
    const changes: EventOf<'webhook.changed'>[] = [];
    const req = (user: TestUser | string, method: string, url: string, body?: unknown) =>
      h().request({ method, url, ...(typeof user === 'string' ? { apiKey: user } : { token: user.token }), ...(body !== undefined ? { body } : {}) });
    const settle = async () => {
      await h().built.events.settled();
      await h().built.webhooks.settled();
    };
    /** Moves the sender's clock on and lets it send what became due. */
    const advance = async (ms: number) => {
      now += ms;
      h().built.webhooks.sender.wake();
      await settle();
    };
    const create = async (user: TestUser | string, path: string) => {
      const res = await req(user, 'POST', '/api/v1/webhooks', { url: receiver.url(path), events: ['record.created'], model: 'items' });
      expect(res.statusCode, res.body).toBe(201);
      return res.json().data as { id: string };
    };
    const deliveries = async (id: string) =>
      (await req(owner, 'GET', `/api/v1/webhooks/${id}/deliveries`)).json().data as {
        id: string;
        status: string;
        attemptCount: number;
        nextAttemptAt: string | null;
        lastError: string | null;
        attempts: { statusCode: number | null; error: string | null }[];
      }[];
    const hook = async (id: string) => (await req(owner, 'GET', `/api/v1/webhooks/${id}`)).json().data as { enabled: boolean; disabledReason: string | null };
    const notes = async () => (await req(owner, 'GET', '/api/v1/notifications')).json().data as { kind: string; body: string }[];

    beforeAll(async () => {
      receiver = await startReceiver((path) => status.get(path) ?? 200);
      h().built.webhooks.sender.clock = { now: () => now, random: () => 0.5 };
      h().built.events.subscribe('webhook.changed', (e) => void changes.push(e));
      owner = await signUp(h(), 'Owner');
      expect((await req(owner, 'POST', '/api/v1/models', { name: 'items', fields: [{ name: 'title', type: 'string' }] })).statusCode).toBe(201);
    });
    afterAll(async () => receiver.close());

    it('retries on the schedule (never early), then fails the delivery, disables the subscription and notifies', async () => {
      status.set('/down', 500);
      const w = await create(owner, '/down');
      await req(owner, 'POST', '/api/v1/data/items', { title: 'unlucky' });
      await settle();
      let [d] = await deliveries(w.id);
      expect(d).toMatchObject({ status: 'pending', attemptCount: 1, nextAttemptAt: new Date(now + 5000).toISOString(), attempts: [{ statusCode: 500 }] });
      for (const [i, delay] of RETRY_DELAYS_MS.entries()) {
        await advance(delay - 1);
        expect((await deliveries(w.id))[0]!.attemptCount, `retry ${i + 1} is not early`).toBe(i + 1);
        await advance(1);
        d = (await deliveries(w.id))[0]!;
        expect(d.attemptCount).toBe(i + 2);
      }
      expect(d).toMatchObject({ status: 'failed', attemptCount: MAX_ATTEMPTS, nextAttemptAt: null });
      expect(d!.attempts).toHaveLength(MAX_ATTEMPTS);
      expect(receiver.inbox.items.filter((r) => r.path === '/down')).toHaveLength(MAX_ATTEMPTS);
      expect(new Set(receiver.inbox.items.filter((r) => r.path === '/down').map((r) => r.headers['webhook-id']))).toEqual(new Set([d!.id]));
      expect(await hook(w.id)).toMatchObject({ enabled: false, disabledReason: expect.stringContaining(`failed ${MAX_ATTEMPTS} times`) });
      expect(changes.find((e) => e.webhookId === w.id && e.change === 'disabled')).toBeDefined();
      expect((await notes()).find((n) => n.kind === 'webhook.disabled' && n.body.includes(`failed ${MAX_ATTEMPTS} times`))).toBeDefined();
      // Disabled: a new record is not delivered to it.
      await req(owner, 'POST', '/api/v1/data/items', { title: 'after disable' });
      await settle();
      expect(await deliveries(w.id)).toHaveLength(1);
    });

    it('delivers on a retry once the target recovers, and stays enabled', async () => {
      status.set('/flaky', 503);
      const w = await create(owner, '/flaky');
      await req(owner, 'POST', '/api/v1/data/items', { title: 'flaky' });
      await settle();
      await advance(RETRY_DELAYS_MS[0]);
      status.set('/flaky', 200);
      await advance(RETRY_DELAYS_MS[1]);
      const [d] = await deliveries(w.id);
      expect(d).toMatchObject({ status: 'delivered', attemptCount: 3 });
      expect(d!.attempts.map((a) => a.statusCode)).toEqual([503, 503, 200]);
      expect((await hook(w.id)).enabled).toBe(true);
      await req(owner, 'DELETE', `/api/v1/webhooks/${w.id}`);
    });

    it('stops when the service key that created it is revoked, and tells the admins', async () => {
      const key = await req(owner, 'POST', '/api/v1/api-keys', { name: 'make', role: 'admin', kind: 'service' });
      const w = await create(key.json().data.key as string, '/by-key');
      await req(owner, 'POST', '/api/v1/data/items', { title: 'before revoke' });
      await receiver.inbox.wait((r) => r.path === '/by-key');
      expect((await req(owner, 'DELETE', `/api/v1/api-keys/${key.json().data.id as string}`)).statusCode).toBe(204);
      await req(owner, 'POST', '/api/v1/data/items', { title: 'after revoke' });
      await settle();
      expect(receiver.inbox.items.filter((r) => r.path === '/by-key').map((r) => (r.json.data.record as { title: string }).title)).toEqual(['before revoke']);
      const [latest] = await deliveries(w.id);
      expect(latest).toMatchObject({ status: 'skipped', lastError: expect.stringContaining('revoked') });
      expect(await hook(w.id)).toMatchObject({ enabled: false, disabledReason: expect.stringContaining('revoked') });
      expect((await notes()).find((n) => n.kind === 'webhook.disabled' && n.body.includes('revoked'))).toBeDefined();
      // And by e-mail to the owners and admins (a durable consumer of the notification, sent once).
      await settle();
      const mails = smtp().mails.filter((m) => m.to.includes(owner.email) && m.raw.includes('revoked'));
      expect(mails).toHaveLength(1);
      expect(mails[0]!.to).toEqual([owner.email]);
      expect(mails[0]!.raw).toMatch(/Subject: \[Infinity\] A webhook subscription was disabled/);
    });

    it('stops when its creator is demoted below admin; enabled again it acts for whoever enabled it, and redelivers what it skipped', async () => {
      const admin = await signUp(h(), 'Admin');
      const adminToken = await addMember(h(), owner, admin, 'admin');
      const w = await create({ ...admin, token: adminToken }, '/by-admin');
      expect((await req(owner, 'PATCH', `/api/v1/members/${admin.id}`, { role: 'editor' })).statusCode).toBe(200);
      await req(owner, 'POST', '/api/v1/data/items', { title: 'after demotion' });
      await settle();
      expect(receiver.inbox.items.filter((r) => r.path === '/by-admin')).toHaveLength(0);
      const [skipped] = await deliveries(w.id);
      expect(skipped).toMatchObject({ status: 'skipped', lastError: expect.stringContaining('(editor) no longer holds webhooks:manage') });
      expect(await hook(w.id)).toMatchObject({ enabled: false, disabledReason: expect.stringContaining('editor') });
      expect((await req(owner, 'POST', `/api/v1/webhooks/${w.id}/deliveries/${skipped!.id}/redeliver`)).json().error.code).toBe(
        'WEBHOOK_SUBSCRIPTION_DISABLED',
      );
      const enabled = await req(owner, 'PATCH', `/api/v1/webhooks/${w.id}`, { enabled: true });
      expect(enabled.json().data).toMatchObject({ enabled: true, disabledReason: null, createdBy: { type: 'user', id: owner.id } });
      const again = await req(owner, 'POST', `/api/v1/webhooks/${w.id}/deliveries/${skipped!.id}/redeliver`);
      expect(again.json().data).toMatchObject({ status: 'delivered' });
      const got = await receiver.inbox.wait((r) => r.path === '/by-admin');
      expect(got.headers['webhook-id']).toBe(skipped!.id);
      expect(got.json.data.record).toMatchObject({ title: 'after demotion' });
    });
  },
  {
    INFINITY_HTTP_ALLOW: '127.0.0.1/32',
    get INFINITY_SMTP_URL() {
      return smtp().url;
    },
  },
);
