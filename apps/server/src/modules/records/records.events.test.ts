import { expect, it } from 'vitest';
import type { DomainEvent } from '../../platform/events/index.js';
import { createApiKey, signUp } from '../../platform/testing/actors.js';
import { describeEachDb } from '../../platform/testing/harness.js';

describeEachDb('record events', (h) => {
  it('publishes created, updated (with changed fields) and deleted after commit, and nothing for a rolled-back bulk', async () => {
    const u = await signUp(h());
    const { key } = await createApiKey(h(), u.token, 'editor');
    const events: DomainEvent[] = [];
    const stop = h().built.events.subscribe('*', (e) => {
      if (e.orgId === u.orgId && e.type.startsWith('record.')) events.push(e);
    });
    try {
      const req = (method: string, url: string, body?: unknown) => h().request({ method, url, apiKey: key, body });
      await req('POST', '/api/v1/models', {
        name: 'notes',
        fields: [
          { name: 'title', type: 'string', unique: true },
          { name: 'body', type: 'text' },
        ],
      });
      const id = (await req('POST', '/api/v1/data/notes', { title: 'a', body: 'x' })).json().data.id;
      await req('PATCH', `/api/v1/data/notes/${id}`, { body: 'y' });
      await req('DELETE', `/api/v1/data/notes/${id}`);
      expect(events.map((e) => [e.type, e.model, e.recordId, e.changed])).toEqual([
        ['record.created', 'notes', id, undefined],
        ['record.updated', 'notes', id, ['body']],
        ['record.deleted', 'notes', id, undefined],
      ]);
      expect(events[0]).toMatchObject({ after: { title: 'a', body: 'x' }, actor: { type: 'apiKey' } });
      events.length = 0;
      const refused = await req('POST', '/api/v1/data/notes/bulk', { op: 'create', items: [{ title: 'b' }, { title: 'b' }] });
      expect(refused.statusCode).toBe(409);
      expect(events).toEqual([]);
      await req('POST', '/api/v1/data/notes/bulk', { op: 'create', items: [{ title: 'c' }, { title: 'd' }] });
      expect(events.map((e) => e.type)).toEqual(['record.created', 'record.created']);
    } finally {
      stop();
    }
  });
});
