import type { Kysely } from 'kysely';
import { expect, it } from 'vitest';
import type { EventOf } from '../../platform/events/index.js';
import { createApiKey, signUp } from '../../platform/testing/actors.js';
import { describeEachDb } from '../../platform/testing/harness.js';
import { ModelCache } from './model-cache.js';
import type { SchemaTables } from './schema.repo.js';

describeEachDb('model cache on model.changed', (h) => {
  it('a cache that follows the spine (another process’s) forgets an organization when model.changed arrives, long before its TTL', async () => {
    const u = await signUp(h());
    const key = (await createApiKey(h(), u.token, 'admin')).key;
    const req = (method: string, url: string, body?: unknown) => h().request({ method, url, apiKey: key, body });
    expect((await req('POST', '/api/v1/models', { name: 'notes', fields: [{ name: 'title', type: 'string' }] })).statusCode).toBe(201);

    // A cache as another process holds it: an hour's TTL, so only the event can refresh it.
    const other = new ModelCache(h().db.kysely as Kysely<SchemaTables>, 3_600_000);
    const stop = other.follow(h().built.events);
    try {
      expect((await other.get(u.orgId)).byName.get('notes')?.fields.map((f) => f.name)).toEqual(['title']);
      const changes: EventOf<'model.changed'>[] = [];
      let arrived: () => void = () => undefined;
      const off = h().built.events.subscribe('model.changed', (e) => {
        if (e.orgId !== u.orgId) return;
        changes.push(e);
        arrived();
      });
      /** Resolves once `n` events have arrived (the cache that follows was told before this listener). */
      const events = (n: number) => new Promise<void>((resolve) => (arrived = () => changes.length >= n && resolve())).then(() => changes);

      const first = events(1);
      expect((await req('PATCH', '/api/v1/models/notes', { addFields: [{ name: 'body', type: 'text' }] })).statusCode).toBe(200);
      expect((await first).map((e) => [e.model, e.change])).toEqual([['notes', 'updated']]);
      expect((await other.get(u.orgId)).byName.get('notes')?.fields.map((f) => f.name)).toEqual(['title', 'body']);

      // A refused change (its DDL rolled back) tells nobody anything: the next event is the delete.
      await req('POST', '/api/v1/data/notes', { title: 'x' });
      const refused = await req('PATCH', '/api/v1/models/notes', { addFields: [{ name: 'due', type: 'date', required: true }] });
      expect(refused.statusCode).toBe(422);
      const second = events(2);
      expect((await req('DELETE', '/api/v1/models/notes')).statusCode).toBe(204);
      expect((await second).map((e) => [e.model, e.change])).toEqual([
        ['notes', 'updated'],
        ['notes', 'deleted'],
      ]);
      expect((await other.get(u.orgId)).byName.has('notes')).toBe(false);
      off();
    } finally {
      stop();
    }
  });
});
