import { expect, it } from 'vitest';
import { addMember, createApiKey, signUp } from '../../platform/testing/actors.js';
import { describeEachDb } from '../../platform/testing/harness.js';

describeEachDb('actions', (h) => {
  /**
   * Each test has its own organization with the two models and the onboarding action (a fresh
   * fixture, so any test runs alone): an editor's API key and a request helper bound to it.
   */
  async function onboarding() {
    const u = await signUp(h());
    const key = (await createApiKey(h(), u.token, 'editor')).key;
    const req = (method: string, url: string, body?: unknown) => h().request({ method, url, apiKey: key, body });
    await req('POST', '/api/v1/models', {
      name: 'companies',
      fields: [
        { name: 'name', type: 'string', required: true, unique: true },
        { name: 'country', type: 'string' },
      ],
    });
    await req('POST', '/api/v1/models', {
      name: 'employees',
      fields: [
        { name: 'email', type: 'string', required: true, unique: true },
        { name: 'title', type: 'string' },
        { name: 'company', type: 'relation', target: 'companies', onDelete: 'cascade' },
      ],
    });
    const r = await req('POST', '/api/v1/actions', {
      name: 'Onboard a customer',
      params: [
        { name: 'company', type: 'string', required: true },
        { name: 'email', type: 'string', required: true },
        { name: 'country', type: 'string', value: 'NL' },
      ],
      steps: [
        { id: 'company', op: 'create', model: 'companies', values: { name: '{{params.company}}', country: '{{params.country}}' } },
        {
          id: 'contact',
          op: 'create',
          model: 'employees',
          values: { email: '{{params.email}}', title: 'Contact at {{steps.company.name}}', company: '{{steps.company.id}}' },
        },
        { id: 'staff', op: 'query', model: 'employees', filter: { company: { eq: '{{steps.company.id}}' } } },
      ],
    });
    return { req, created: r, actionId: r.json().data?.id as string };
  }

  it('defines a two-step action with a fixed parameter', async () => {
    const { created } = await onboarding();
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().data).toMatchObject({ name: 'Onboard a customer' });
  });

  it('runs with the remaining parameters in one transaction and records the run', async () => {
    const { req, actionId } = await onboarding();
    const r = await req('POST', `/api/v1/actions/${actionId}/run`, { params: { company: 'Acme', email: 'ceo@acme.io' } });
    expect(r.statusCode, r.body).toBe(200);
    const run = r.json().data;
    expect(run).toMatchObject({ status: 'succeeded', input: { company: 'Acme', email: 'ceo@acme.io', country: 'NL' } });
    expect(run.output.steps.contact).toMatchObject({ email: 'ceo@acme.io', title: 'Contact at Acme', company: run.output.steps.company.id });
    expect(run.output.steps.staff.count).toBe(1);
    expect(run.logs.map((l: { step: string | null }) => l.step)).toEqual(['company', 'contact', 'staff', null]);
    expect(run.durationMs).toBeGreaterThan(0);
    const fetched = (await req('GET', `/api/v1/action-runs/${run.id}`)).json().data;
    expect(fetched).toEqual(run);
    expect((await req('GET', `/api/v1/actions/${actionId}/runs`)).json().data.map((x: { id: string }) => x.id)).toEqual([run.id]);
  });

  it('rolls every step back when one fails, and records the failed run with the step and the cause', async () => {
    const { req, actionId } = await onboarding();
    expect((await req('POST', `/api/v1/actions/${actionId}/run`, { params: { company: 'Acme', email: 'ceo@acme.io' } })).statusCode).toBe(200);
    // The company is new, but the email is taken: step 2 fails, step 1 must not survive.
    const r = await req('POST', `/api/v1/actions/${actionId}/run`, { params: { company: 'Beta', email: 'ceo@acme.io' } });
    expect(r.statusCode).toBe(422);
    const err = r.json().error;
    expect(err.code).toBe('ACTION_RUN_FAILED');
    expect(err.details.run).toMatchObject({ status: 'failed', error: { step: 'contact', code: 'RECORD_UNIQUE_VIOLATION' } });
    expect((await req('GET', '/api/v1/data/companies?filter[name][eq]=Beta')).json().data).toEqual([]);
    const runs = (await req('GET', `/api/v1/actions/${actionId}/runs`)).json().data;
    expect(runs.map((x: { status: string }) => x.status)).toEqual(['failed', 'succeeded']);
  });

  it('refuses bad parameters and bad definitions, changing nothing', async () => {
    const { req, actionId } = await onboarding();
    const cases: [unknown, string[]][] = [
      [{ params: { company: 'X' } }, ['email']],
      [{ params: { company: 'X', email: 'x@y.z', country: 'DE' } }, ['country']],
      [{ params: { company: 5, email: 'x@y.z' } }, ['company']],
      [{ params: { company: 'X', email: 'x@y.z', extra: 1 } }, ['extra']],
    ];
    for (const [body, fields] of cases) {
      const r = await req('POST', `/api/v1/actions/${actionId}/run`, body);
      expect(r.statusCode, r.body).toBe(422);
      expect(r.json().error.details.map((d: { field: string }) => d.field)).toEqual(fields);
    }
    const badRef = await req('POST', '/api/v1/actions', {
      name: 'bad',
      steps: [{ id: 'a', op: 'create', model: 'companies', values: { name: '{{steps.b.id}}' } }],
    });
    expect(badRef.statusCode).toBe(422);
    expect(badRef.json().error.code).toBe('ACTION_INVALID');
    const dup = await req('POST', '/api/v1/actions', { name: 'Onboard a customer', steps: [{ id: 'a', op: 'query', model: 'companies' }] });
    expect(dup.statusCode).toBe(409);
    expect((await req('GET', '/api/v1/actions')).json().data).toHaveLength(1);
    expect((await req('GET', `/api/v1/actions/${actionId}/runs`)).json().data).toEqual([]);
  });

  it('viewers read actions and runs but cannot run or change them', async () => {
    const owner = await signUp(h());
    const viewer = await signUp(h());
    const vt = await addMember(h(), owner, viewer, 'viewer');
    // Actions are checked against the organization's models: the one it queries must exist.
    expect((await h().request({ method: 'POST', url: '/api/v1/models', token: owner.token, body: { name: 'x', fields: [] } })).statusCode).toBe(201);
    const created = await h().request({
      method: 'POST',
      url: '/api/v1/actions',
      token: owner.token,
      body: { name: 'noop', steps: [{ id: 'q', op: 'query', model: 'x' }] },
    });
    expect(created.statusCode).toBe(201);
    expect((await h().request({ method: 'GET', url: '/api/v1/actions', token: vt })).statusCode).toBe(200);
    expect((await h().request({ method: 'POST', url: `/api/v1/actions/${created.json().data.id}/run`, token: vt, body: {} })).statusCode).toBe(403);
  });
});
