import { expect, it } from 'vitest';
import { createApiKey, signUp } from '../../platform/testing/actors.js';
import { describeEachDb } from '../../platform/testing/harness.js';

/** Issue #25: flow creation from templates and with options. */
describeEachDb('flows: creation options and templates', (h) => {
  let key: string;
  const req = (method: string, url: string, body?: unknown) => h().request({ method, url, apiKey: key, body });

  it('?template=blank with an empty body (or none) makes a flow with the template’s default name', async () => {
    const u = await signUp(h());
    key = (await createApiKey(h(), u.token, 'editor')).key;
    for (const body of [{}, undefined]) {
      const r = await req('POST', '/api/v1/flows?template=blank', body);
      expect(r.statusCode, r.body).toBe(201);
      expect(r.json().data).toMatchObject({ name: 'Untitled flow', active: false, version: 1 });
    }
  });

  it('an unknown template is a clear 400 naming it, even with an empty body', async () => {
    for (const body of [{}, undefined, { name: 'x' }]) {
      const r = await req('POST', '/api/v1/flows?template=nope', body);
      expect(r.statusCode, r.body).toBe(400);
      expect(r.json().error.code).toBe('FLOW_TEMPLATE_UNKNOWN');
      expect(r.json().error.message).toContain('"nope"');
      expect(r.json().error.message).toContain('webhook-to-record');
    }
    const proto = await req('POST', '/api/v1/flows?template=toString', {});
    expect(proto.json().error.code).toBe('FLOW_TEMPLATE_UNKNOWN');
    // Without a template a name is still required.
    const nameless = await req('POST', '/api/v1/flows', { nodes: [] });
    expect(nameless.statusCode).toBe(400);
    expect(nameless.json().error.details[0]).toMatchObject({ field: 'name', code: 'required' });
  });

  it('active can be set at creation: the triggers start at once', async () => {
    const r = await req('POST', '/api/v1/flows', {
      name: 'Live',
      active: true,
      nodes: [
        { id: 'hook', type: 'trigger.webhook', typeVersion: 1, name: 'Hook', position: { x: 0, y: 0 }, params: { path: 'live', respond: 'whenFinished' } },
        { id: 'out', type: 'core.output', typeVersion: 1, name: 'Out', position: { x: 200, y: 0 }, params: { value: '{{ $input.body }}' } },
      ],
      edges: [{ id: 'e', source: 'hook', sourceHandle: 'main', target: 'out', targetHandle: 'main' }],
    });
    expect(r.statusCode, r.body).toBe(201);
    expect(r.json().data.active).toBe(true);
    const hook = await h().request({ method: 'POST', url: `/api/v1/hooks/${r.json().data.id}/live`, body: { hello: 'world' } });
    expect(hook.statusCode, hook.body).toBe(200);
  });

  it('"Webhook → record" from a fresh org creates its leads model and runs', async () => {
    const fresh = await signUp(h());
    const freshKey = (await createApiKey(h(), fresh.token, 'editor')).key;
    const call = (method: string, url: string, body?: unknown) => h().request({ method, url, apiKey: freshKey, body });
    expect((await call('GET', '/api/v1/models/leads')).statusCode).toBe(404);
    const r = await call('POST', '/api/v1/flows?template=webhook-to-record', { active: true });
    expect(r.statusCode, r.body).toBe(201);
    const model = (await call('GET', '/api/v1/models/leads')).json().data;
    expect(model.fields.map((f: { name: string }) => f.name)).toEqual(['email', 'name']);
    const hook = await h().request({ method: 'POST', url: `/api/v1/hooks/${r.json().data.id}/lead`, body: { email: 'ada@example.com', name: 'Ada' } });
    expect(hook.statusCode, hook.body).toBe(201);
    expect(hook.json()).toMatchObject({ email: 'ada@example.com', name: 'Ada', id: expect.any(String) });
    const exec = (await call('GET', `/api/v1/executions/${hook.headers['x-execution-id'] as string}`)).json().data;
    expect(exec.status).toBe('succeeded');
    expect((await call('GET', '/api/v1/data/leads')).json().data).toMatchObject([{ email: 'ada@example.com', name: 'Ada' }]);
    // A second flow from the template leaves the existing model (and its records) alone.
    expect((await call('POST', '/api/v1/flows?template=webhook-to-record', {})).statusCode).toBe(201);
    expect((await call('GET', '/api/v1/data/leads?count=exact&limit=1')).json().meta.total).toBe(1);
  });

  it('"Scheduled fetch to record" creates its snapshots model with valid field names', async () => {
    const r = await req('POST', '/api/v1/flows?template=scheduled-http-to-record');
    expect(r.statusCode, r.body).toBe(201);
    const model = (await req('GET', '/api/v1/models/snapshots')).json().data;
    expect(model.fields.map((f: { name: string; type: string }) => `${f.name}:${f.type}`)).toEqual(['payload:json', 'fetched_at:datetime']);
  });
});
