import { expect, it } from 'vitest';
import { createApiKey, signUp } from './platform/testing/actors.js';
import { describeEachDb } from './platform/testing/harness.js';

// Regression: JSON nested 2,000+ levels (a record's json field, a flow run input, an
// unauthenticated webhook body) was a 500 with a stack in the log. It is a 400 that changes nothing.
const deep = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

describeEachDb('JSON nested thousands of levels deep', (h) => {
  it('is refused with 400 INVALID_JSON on records, flow runs and public webhooks, and nothing is logged as a failure', async () => {
    const u = await signUp(h());
    const key = (await createApiKey(h(), u.token, 'admin')).key;
    const send = (url: string, payload: string, auth = true) =>
      h().request({ method: 'POST', url, ...(auth ? { apiKey: key } : {}), headers: { 'content-type': 'application/json' }, payload });
    expect(
      (await h().request({ method: 'POST', url: '/api/v1/models', apiKey: key, body: { name: 'docs', fields: [{ name: 'body', type: 'json' }] } })).statusCode,
    ).toBe(201);
    const node = (id: string, type: string, params: Record<string, unknown>) => ({ id, type, name: id, position: { x: 0, y: 0 }, params });
    const flow = (
      await h().request({
        method: 'POST',
        url: '/api/v1/flows',
        apiKey: key,
        body: {
          name: 'hook',
          nodes: [node('hook', 'trigger.webhook', { path: 'in' }), node('set', 'core.set', { values: { ok: true } })],
          edges: [{ id: 'e', source: 'hook', target: 'set' }],
        },
      })
    ).json().data;
    expect((await h().request({ method: 'PATCH', url: `/api/v1/flows/${flow.id}`, apiKey: key, body: { active: true } })).statusCode).toBe(200);
    const failuresBefore = h().logs.filter((l) => l.includes('request failed')).length;

    for (const [url, payload, auth] of [
      ['/api/v1/data/docs', `{"body":${deep(5000)}}`, true],
      [`/api/v1/flows/${flow.id}/run`, `{"input":${deep(5000)}}`, true],
      [`/api/v1/hooks/${flow.id}/in`, deep(5000), false],
    ] as const) {
      const r = await send(url, payload, auth);
      expect(r.statusCode, `${url}: ${r.body.slice(0, 200)}`).toBe(400);
      expect(r.json().error.code).toBe('INVALID_JSON');
    }
    expect(h().logs.filter((l) => l.includes('request failed')).length).toBe(failuresBefore);
    expect((await h().request({ method: 'GET', url: '/api/v1/data/docs', apiKey: key })).json().data).toEqual([]);
    // Ordinary nesting still works.
    expect((await send('/api/v1/data/docs', `{"body":${deep(50)}}`)).statusCode).toBe(201);
  });
});
