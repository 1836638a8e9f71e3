import { expect, it } from 'vitest';
import { createApiKey, signUp } from '../../platform/testing/actors.js';
import { describeEachDb } from '../../platform/testing/harness.js';

/** Issue #25: an action naming an unknown model or field was accepted and failed only when run. */
describeEachDb('actions: models and fields checked at definition', (h) => {
  let key: string;
  const req = (method: string, url: string, body?: unknown) => h().request({ method, url, apiKey: key, body });
  const refused = async (method: string, url: string, body: unknown) => {
    const r = await req(method, url, body);
    expect(r.statusCode, r.body).toBe(422);
    expect(r.json().error.code).toBe('ACTION_INVALID');
    return r.json().error.details as { field: string; code: string; message: string }[];
  };

  it('refuses a step naming an unknown model, an unknown field, a non-unique upsert key, a bad filter or sort path', async () => {
    const u = await signUp(h());
    key = (await createApiKey(h(), u.token, 'editor')).key;
    expect(
      (
        await req('POST', '/api/v1/models', {
          name: 'companies',
          fields: [
            { name: 'name', type: 'string', required: true, unique: true },
            { name: 'country', type: 'string' },
          ],
        })
      ).statusCode,
    ).toBe(201);
    const steps = [
      { id: 'a', op: 'create', model: 'compnies', values: { name: 'x' } },
      { id: 'b', op: 'create', model: 'companies', values: { name: 'x', contry: 'NL' } },
      { id: 'c', op: 'upsert', model: 'companies', key: 'country', values: { name: 'x' } },
      { id: 'd', op: 'query', model: 'companies', filter: { or: [{ name: 'x' }, { toString: 'y' }] as Record<string, unknown>[] }, sort: '-nme' },
      { id: 'e', op: 'update', model: 'companies', recordId: '{{steps.b.id}}', values: { country: 'DE' } },
    ];
    const details = await refused('POST', '/api/v1/actions', { name: 'typos', steps });
    expect(details.map((d) => `${d.field}:${d.code}`)).toEqual([
      'steps.0.model:unknown_model',
      'steps.1.values.contry:unknown_field',
      'steps.2.key:unknown_field',
      'steps.3.filter:invalid_filter',
      'steps.3.sort:invalid_sort',
    ]);
    expect(details[0]!.message).toContain('compnies');
    expect(details[3]!.message).toContain('toString');
    expect((await req('GET', '/api/v1/actions')).json().data).toEqual([]);
  });

  it('accepts a definition whose models and fields exist, and checks a PATCH the same way', async () => {
    const ok = await req('POST', '/api/v1/actions', {
      name: 'fine',
      params: [{ name: 'n', type: 'string' }],
      steps: [
        { id: 'c', op: 'upsert', model: 'companies', key: 'name', values: { name: '{{params.n}}', country: 'NL' } },
        { id: 'q', op: 'query', model: 'companies', filter: { name: { eq: '{{params.n}}' } }, sort: '-createdAt,name' },
      ],
    });
    expect(ok.statusCode, ok.body).toBe(201);
    const id = ok.json().data.id as string;
    const details = await refused('PATCH', `/api/v1/actions/${id}`, { steps: [{ id: 'd', op: 'delete', model: 'people', recordId: 'x' }] });
    expect(details.map((d) => d.code)).toEqual(['unknown_model']);
    expect((await req('GET', `/api/v1/actions/${id}`)).json().data.steps).toHaveLength(2);
    const run = await req('POST', `/api/v1/actions/${id}/run`, { params: { n: 'Acme' } });
    expect(run.json().data.status).toBe('succeeded');
  });
});
