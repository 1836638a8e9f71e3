import type { DomainEvent as TypedEvent } from '@infinity/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../platform/db/index.js';
import { Inbox, killRedisClients, signal, terminateBackends, testRedisUrl } from '../../platform/testing/events.js';
import { addMember, createApiKey, signUp } from '../../platform/testing/actors.js';
import { testBackends } from '../../platform/testing/backends.js';
import { type Harness, createHarness, openTestDatabase, testKeys } from '../../platform/testing/harness.js';

/**
 * The acceptance test of #26 for identity: two instances (A and B) on one PostgreSQL database,
 * with the principal cache's TTL at an hour so that the TTL cannot be what worked. A change on A
 * is refused on B as soon as its event has arrived there — never later, never by waiting.
 */
const HOUR = String(60 * 60 * 1000);

for (const via of ['listen/notify', 'redis'] as const) {
  describe.runIf(testBackends().includes('postgres'))(`identity caches follow events across instances [postgres, ${via}]`, () => {
    let a: Harness;
    let b: Harness;
    beforeAll(async () => {
      const db = await openTestDatabase('postgres');
      const env = { DATABASE_URL: db.url!, INFINITY_AUTH_CACHE_TTL_MS: HOUR, ...(via === 'redis' ? { REDIS_URL: testRedisUrl() } : {}) };
      const keys = testKeys();
      a = await createHarness('postgres', env, { db, keys });
      b = await createHarness('postgres', env, { db: await openDatabase({ postgresUrl: db.url!, poolSize: 5 }), keys });
    });
    afterAll(async () => {
      await b?.close();
      await a?.close();
    });
    const arrivesOnB = <T extends 'key.revoked' | 'member.changed'>(type: T) => {
      const inbox = new Inbox<TypedEvent>();
      b.built.events.subscribe(type, inbox.push);
      return inbox;
    };

    it('a key revoked on A is refused on B once key.revoked has arrived there', async () => {
      const owner = await signUp(a);
      const { id, key } = await createApiKey(a, owner.token, 'editor');
      expect((await b.request({ method: 'GET', url: '/api/v1/me', apiKey: key })).statusCode).toBe(200); // cached on B
      const revoked = arrivesOnB('key.revoked');
      expect((await a.request({ method: 'DELETE', url: `/api/v1/api-keys/${id}`, token: owner.token })).statusCode).toBe(204);
      await revoked.wait((e) => e.type === 'key.revoked' && e.keyId === id);
      const r = await b.request({ method: 'GET', url: '/api/v1/me', apiKey: key });
      expect(r.statusCode, r.body).toBe(401);
      expect(r.json().error.code).toBe('AUTH_API_KEY_INVALID');
    });

    it('a member removed on A loses their session and personal key on B once member.changed has arrived there', async () => {
      const owner = await signUp(a);
      const member = await signUp(a);
      const mt = await addMember(a, owner, member, 'admin');
      const { key } = await createApiKey(a, mt, 'editor');
      // Both are cached on B.
      expect((await b.request({ method: 'GET', url: '/api/v1/members', token: mt })).statusCode).toBe(200);
      expect((await b.request({ method: 'GET', url: '/api/v1/flows', apiKey: key })).statusCode).toBe(200);
      const changed = arrivesOnB('member.changed');
      expect((await a.request({ method: 'DELETE', url: `/api/v1/members/${member.id}`, token: owner.token })).statusCode).toBe(204);
      await changed.wait((e) => e.type === 'member.changed' && e.userId === member.id && e.role === null);
      const byKey = await b.request({ method: 'GET', url: '/api/v1/flows', apiKey: key });
      expect(byKey.statusCode, byKey.body).toBe(401);
      expect(byKey.json().error.code).toBe('AUTH_API_KEY_INVALID');
      // The session goes on without the organization (as on one instance): routes that need one refuse.
      const bySession = await b.request({ method: 'GET', url: '/api/v1/members', token: mt });
      expect(bySession.json().error.code, bySession.body).toBe('AUTH_NO_ORGANIZATION');
      const named = await b.request({ method: 'GET', url: '/api/v1/members', token: mt, headers: { 'x-org-id': owner.orgId } });
      expect(named.json().error.code, named.body).toBe('AUTH_NOT_A_MEMBER');
    });

    it('a member demoted on A acts with the new role on B once member.changed has arrived there', async () => {
      const owner = await signUp(a);
      const member = await signUp(a);
      const mt = await addMember(a, owner, member, 'editor');
      expect((await b.request({ method: 'GET', url: '/api/v1/me', token: mt })).json().data.role).toBe('editor');
      const changed = arrivesOnB('member.changed');
      const demote = await a.request({ method: 'PATCH', url: `/api/v1/members/${member.id}`, token: owner.token, body: { role: 'viewer' } });
      expect(demote.statusCode, demote.body).toBe(200);
      await changed.wait((e) => e.type === 'member.changed' && e.userId === member.id);
      expect((await b.request({ method: 'GET', url: '/api/v1/me', token: mt })).json().data.role).toBe('viewer');
    });

    it('when B’s listening connection is terminated, B flushes its caches on reconnecting: a change made meanwhile is refused', async () => {
      const owner = await signUp(a);
      const { id, key } = await createApiKey(a, owner.token, 'editor');
      expect((await b.request({ method: 'GET', url: '/api/v1/me', apiKey: key })).statusCode).toBe(200); // cached on B
      const resynced = signal();
      b.built.events.onResync(resynced.fire);
      const name = b.built.events.listenerName!;
      if (via === 'redis') expect(await killRedisClients(testRedisUrl(), name)).toBe(1);
      else expect(await terminateBackends(a.db.pool, name)).toBe(1);
      // Revoked behind every event's back: only the resync can make B forget the cached key.
      await a.db.pool.query('update api_keys set revoked_at = now() where id = $1', [id]);
      await resynced.fired;
      expect((await b.request({ method: 'GET', url: '/api/v1/me', apiKey: key })).statusCode).toBe(401);
      // And B hears events again.
      const other = await createApiKey(a, owner.token, 'editor');
      expect((await b.request({ method: 'GET', url: '/api/v1/me', apiKey: other.key })).statusCode).toBe(200);
      const revoked = arrivesOnB('key.revoked');
      expect((await a.request({ method: 'DELETE', url: `/api/v1/api-keys/${other.id}`, token: owner.token })).statusCode).toBe(204);
      await revoked.wait((e) => e.type === 'key.revoked' && e.keyId === other.id);
      expect((await b.request({ method: 'GET', url: '/api/v1/me', apiKey: other.key })).statusCode).toBe(401);
    });
  });
}
