/**
 * The Zapier app against a running Infinity (the built `infinity start`, on each database), driven
 * by the platform's own app tester as Zapier would drive it: connection test and label, the dropdown
 * triggers, fields generated from model and action definitions, every search and create, both REST
 * hooks end to end (subscribe → a real signed delivery to a loopback receiver → perform on it →
 * unsubscribe), errors carrying Infinity's code, and no reach across organizations or above the key's
 * role. Also the platform's schema validation and `zapier validate --without-style`.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../../apps/server/src/platform/testing/backends.js';
import { type Received, startReceiver, verifyDelivery } from '../../../apps/server/src/platform/testing/webhook-receiver.js';
import { type RunningServer, e2eEnv, startServer, until } from '../../../test/e2e/server-process.js';

const require = createRequire(import.meta.url);
const appDir = path.resolve(import.meta.dirname, '..');
// The app is CommonJS, as Zapier loads it: required natively, not through the test's transform.
const App = require('../index.js') as typeof import('../index.js');
const zapier = require('zapier-platform-core') as typeof import('zapier-platform-core');
const schema = require('zapier-platform-core/src/tools/schema') as {
  prepareApp(app: unknown): unknown;
  validateApp(compiled: unknown): { property: string; message: string }[];
};
const { signatureProblem } = require('../lib/signature.js') as typeof import('../lib/signature.js');
const appTester = zapier.createAppTester(App);

type Fn = (z: import('zapier-platform-core').ZObject, bundle: any) => unknown;
type Json = Record<string, any>;

/** A delivery as Zapier hands it to a hook's perform: headers renamed `Http-Camel-Case`, the raw body, the parsed body. */
function asZapierRequest(r: Received) {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers)) {
    const camel = k
      .split('-')
      .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
      .join('-');
    headers[k === 'content-type' || k === 'content-length' ? camel : `Http-${camel}`] = String(v);
  }
  return { rawRequest: { method: 'POST' as const, headers, content: r.body, querystring: '' }, cleanedRequest: JSON.parse(r.body) as Json };
}

for (const backend of testBackends()) {
  describe(`Zapier app against a running Infinity [${backend}]`, () => {
    let server: RunningServer;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    let token = '';
    const auth = { baseUrl: '', apiKey: '' };
    const keys = { viewer: '', otherOrg: '' };
    let actionId = '';
    let flowId = '';

    const call = async (base: string, method: string, p: string, body?: unknown, bearer = token): Promise<{ status: number; json: Json }> => {
      const r = await fetch(`${base}/api/v1${p}`, {
        method,
        headers: { authorization: `Bearer ${bearer}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      const text = await r.text();
      return { status: r.status, json: text ? (JSON.parse(text) as Json) : {} };
    };
    const ok = async (method: string, p: string, body?: unknown, bearer = token) => {
      const r = await call(server.url, method, p, body, bearer);
      expect(r.status, JSON.stringify(r.json)).toBeLessThan(300);
      return r.json.data as Json;
    };
    const signUp = async (email: string) =>
      (await ok('POST', '/auth/signup', { name: email.split('@')[0], email, password: 'zapier tests pass phrase 7' }, '')).accessToken as string;
    const run = <T = any>(fn: unknown, bundle: Json = {}, authData: Json = auth) => appTester(fn as Fn, { authData, ...bundle }) as Promise<T>;

    beforeAll(async () => {
      receiver = await startReceiver();
      server = await startServer([], { ...(await e2eEnv(backend, 'zapier')), INFINITY_HTTP_ALLOW: '127.0.0.1/32' });
      auth.baseUrl = `${server.url}/`; // a trailing slash, as people paste it
      token = await signUp('owner@zapier.example');
      auth.apiKey = (await ok('POST', '/api-keys', { name: 'zapier', role: 'admin', kind: 'service' })).key as string;
      keys.viewer = (await ok('POST', '/api-keys', { name: 'zapier viewer', role: 'viewer', kind: 'service' })).key as string;
      await ok('POST', '/models', { name: 'companies', fields: [{ name: 'name', type: 'string', required: true }] });
      await ok('POST', '/models', {
        name: 'contacts',
        label: 'Contacts',
        fields: [
          { name: 'email', type: 'string', required: true, unique: true, description: 'Where we write to.' },
          { name: 'full_name', label: 'Full Name', type: 'string' },
          { name: 'age', type: 'integer', min: 0 },
          { name: 'score', type: 'number' },
          { name: 'active', type: 'boolean', required: true, default: true },
          { name: 'level', type: 'enum', values: ['junior', 'senior'] },
          { name: 'tags', type: 'array', items: 'string' },
          { name: 'born', type: 'date' },
          { name: 'seen', type: 'datetime' },
          { name: 'meta', type: 'json' },
          { name: 'notes', type: 'text' },
          { name: 'company', type: 'relation', target: 'companies' },
        ],
      });
      actionId = (
        await ok('POST', '/actions', {
          name: 'Add contact',
          params: [
            { name: 'email', type: 'string', required: true, description: 'The new address.' },
            { name: 'age', type: 'integer', required: true },
            { name: 'origin', type: 'string', value: 'zapier' },
          ],
          steps: [{ id: 'contact', op: 'create', model: 'contacts', values: { email: '{{params.email}}', age: '{{params.age}}', notes: '{{params.origin}}' } }],
        })
      ).id as string;
      const node = (id: string, type: string, params: Json) => ({ id, type, name: id, position: { x: 0, y: 0 }, params });
      flowId = (
        await ok('POST', '/flows', {
          name: 'Greeter',
          nodes: [
            node('start', 'trigger.manual', {}),
            node('shape', 'core.transform', { expression: '{ "greeting": "Hello " & $input.name }' }),
            node('out', 'core.output', {}),
          ],
          edges: [
            { id: 'e1', source: 'start', sourceHandle: 'main', target: 'shape', targetHandle: 'main' },
            { id: 'e2', source: 'shape', sourceHandle: 'main', target: 'out', targetHandle: 'main' },
          ],
        })
      ).id as string;
      const other = await signUp('other@zapier.example');
      keys.otherOrg = (await ok('POST', '/api-keys', { name: 'other', role: 'admin', kind: 'service' }, other)).key as string;
    });
    afterAll(async () => {
      await server?.stop();
      await receiver?.close();
    });

    it('tests the connection with GET /me and labels it; a wrong key fails with Infinity’s code', async () => {
      const me = await run<Json>(App.authentication.test);
      expect(me).toMatchObject({ kind: 'apiKey', role: 'admin', apiKey: { name: 'zapier', kind: 'service' } });
      expect(await run(App.authentication.connectionLabel, { inputData: me })).toBe(`${me.organization.name} (zapier)`);
      const wrong = run(App.authentication.test, {}, { ...auth, apiKey: 'inf_not_a_real_key' });
      await expect(wrong).rejects.toThrow(/"code":"AUTH_[A-Z_]+","status":401/);
      await expect(wrong).rejects.toHaveProperty('name', 'AppError');
      // The address as people paste it, with /api/v1, works; one that is not Infinity says so.
      expect(await run(App.authentication.test, {}, { ...auth, baseUrl: `${server.url}/api/v1` })).toMatchObject({ kind: 'apiKey' });
      await expect(run(App.authentication.test, {}, { ...auth, baseUrl: receiver.url('') })).rejects.toThrow(/"code":"ZAPIER_NOT_INFINITY"/);
    });

    it('lists models, actions and flows for the dropdowns, a page at a time', async () => {
      const models = await run<Json[]>(App.triggers.model.operation.perform, { meta: { page: 0 } });
      expect(models.map((m) => m.id).sort()).toEqual(['companies', 'contacts']);
      expect(models.find((m) => m.id === 'contacts')).toMatchObject({ label: 'Contacts' });
      expect(await run(App.triggers.model.operation.perform, { meta: { page: 1 } })).toEqual([]);
      expect(await run(App.triggers.action.operation.perform, { meta: { page: 0 } })).toEqual([{ id: actionId, name: 'Add contact', description: '' }]);
      expect(await run(App.triggers.flow.operation.perform, { meta: { page: 0 } })).toEqual([{ id: flowId, name: 'Greeter' }]);
    });

    it('generates the record fields from the model definition: types, required, choices, help', async () => {
      const create = await run<Json[]>(App.creates.create_record.operation.inputFields[1], { inputData: { model: 'contacts' } });
      const byKey = Object.fromEntries(create.map((f) => [f.key, f]));
      expect(Object.keys(byKey)).toEqual(
        ['email', 'full_name', 'age', 'score', 'active', 'level', 'tags', 'born', 'seen', 'meta', 'notes', 'company'].map((n) => `field__${n}`),
      );
      expect(byKey.field__email).toMatchObject({ label: 'email', type: 'string', required: true, helpText: 'Where we write to. Text.' });
      expect(byKey.field__full_name).toMatchObject({ label: 'Full Name', required: false });
      expect(byKey.field__age).toMatchObject({ type: 'integer' });
      expect(byKey.field__score).toMatchObject({ type: 'number' });
      // Required with a default: the server fills it, so Zapier need not insist.
      expect(byKey.field__active).toMatchObject({ type: 'boolean', required: false, helpText: 'Yes or no. Default: true.' });
      expect(byKey.field__level).toMatchObject({ type: 'string', choices: [{ value: 'junior' }, { value: 'senior' }] });
      expect(byKey.field__tags).toMatchObject({ type: 'string', list: true });
      expect(byKey.field__born.helpText).toContain('YYYY-MM-DD');
      expect(byKey.field__seen).toMatchObject({ type: 'datetime' });
      expect(byKey.field__meta).toMatchObject({ type: 'text' });
      expect(byKey.field__notes).toMatchObject({ type: 'text' });
      expect(byKey.field__company.helpText).toBe('The id of a companies record.');
      const update = await run<Json[]>(App.creates.update_record.operation.inputFields[2], { inputData: { model: 'contacts' } });
      expect(update.filter((f) => f.required)).toEqual([]);
      const search = await run<Json[]>(App.searches.find_record.operation.inputFields[1], { inputData: { model: 'contacts' } });
      expect(search[0]!.choices.map((c: Json) => c.value)).toEqual([
        'id',
        'email',
        'full_name',
        'age',
        'score',
        'active',
        'level',
        'born',
        'seen',
        'notes',
        'company',
      ]);
      const params = await run<Json[]>(App.creates.run_action.operation.inputFields[1], { inputData: { action: actionId } });
      expect(params).toEqual([
        { key: 'param__email', label: 'email', type: 'string', required: true, helpText: 'The new address. (string)' },
        { key: 'param__age', label: 'age', type: 'integer', required: true, helpText: '(integer)' },
      ]);
    });

    it('creates, finds and updates records, runs an action and a flow', async () => {
      const company = await ok('POST', '/data/companies', { name: 'Acme' });
      const created = await run<Json>(App.creates.create_record.operation.perform, {
        inputData: {
          model: 'contacts',
          field__email: 'ada@example.com',
          field__full_name: 'Ada Lovelace',
          field__age: '36',
          field__score: '9.5',
          field__level: 'senior',
          field__tags: ['math', 'engines'],
          field__born: '1815-12-10',
          field__seen: '2026-05-04T10:11:12Z',
          field__meta: '{"source":"zapier"}',
          field__company: company.id,
          field__notes: '',
        },
      });
      expect(created).toMatchObject({
        email: 'ada@example.com',
        full_name: 'Ada Lovelace',
        age: 36,
        score: 9.5,
        active: true,
        level: 'senior',
        tags: ['math', 'engines'],
        born: '1815-12-10',
        meta: { source: 'zapier' },
        company: company.id,
      });

      const found = await run<Json[]>(App.searches.find_record.operation.perform, {
        inputData: { model: 'contacts', field: 'email', value: 'ada@example.com' },
      });
      expect(found.map((r) => r.id)).toEqual([created.id]);
      expect(await run(App.searches.find_record.operation.perform, { inputData: { model: 'contacts', field: 'email', value: 'nobody@example.com' } })).toEqual(
        [],
      );
      const byAge = await run<Json[]>(App.searches.find_record.operation.perform, { inputData: { model: 'contacts', field: 'age', value: '36' } });
      expect(byAge.map((r) => r.id)).toEqual([created.id]);

      const updated = await run<Json>(App.creates.update_record.operation.perform, {
        inputData: { model: 'contacts', id: created.id, field__active: 'false', field__age: 37 },
      });
      expect(updated).toMatchObject({ id: created.id, active: false, age: 37, email: 'ada@example.com', level: 'senior' });

      const actionRun = await run<Json>(App.creates.run_action.operation.perform, {
        inputData: { action: actionId, param__email: 'grace@example.com', param__age: '45' },
      });
      expect(actionRun).toMatchObject({ actionId, status: 'succeeded' });
      const grace = await run<Json[]>(App.searches.find_record.operation.perform, {
        inputData: { model: 'contacts', field: 'email', value: 'grace@example.com' },
      });
      expect(grace).toMatchObject([{ age: 45, notes: 'zapier' }]);

      const flowRun = await run<Json>(App.creates.run_flow.operation.perform, { inputData: { flow: flowId, input: { name: 'Ada' } } });
      expect(flowRun).toMatchObject({ flowId, status: 'succeeded', output: { greeting: 'Hello Ada' } });
      const fromJson = await run<Json>(App.creates.run_flow.operation.perform, { inputData: { flow: flowId, inputJson: '{"name":"Grace"}' } });
      expect(fromJson.output).toEqual({ greeting: 'Hello Grace' });
    });

    it('surfaces Infinity’s error code: data problems halt the run, the rest are errors', async () => {
      const invalid = run(App.creates.create_record.operation.perform, { inputData: { model: 'contacts', field__email: 'x@example.com', field__age: 'many' } });
      await expect(invalid).rejects.toThrow(/^RECORD_INVALID: .*age/);
      await expect(invalid).rejects.toHaveProperty('name', 'HaltedError');
      const duplicate = run(App.creates.create_record.operation.perform, { inputData: { model: 'contacts', field__email: 'ada@example.com' } });
      await expect(duplicate).rejects.toThrow(/^RECORD_UNIQUE_VIOLATION: /);
      const gone = run(App.creates.update_record.operation.perform, {
        inputData: { model: 'contacts', id: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', field__age: 1 },
      });
      await expect(gone).rejects.toThrow(/^RECORD_NOT_FOUND: /);
      const noModel = run(App.creates.create_record.operation.perform, { inputData: { model: 'nope', field__email: 'x@example.com' } });
      await expect(noModel).rejects.toThrow(/"code":"MODEL_NOT_FOUND","status":404/);
      await expect(noModel).rejects.toHaveProperty('name', 'AppError');
      const badField = run(App.searches.find_record.operation.perform, { inputData: { model: 'contacts', field: 'nope', value: '1' } });
      await expect(badField).rejects.toThrow(/"code":"QUERY_INVALID","status":400/);
      const badJson = run(App.creates.run_flow.operation.perform, { inputData: { flow: flowId, inputJson: '{nope' } });
      await expect(badJson).rejects.toThrow(/^ZAPIER_INVALID_JSON: /);
      const badRecordJson = run(App.creates.create_record.operation.perform, {
        inputData: { model: 'contacts', field__email: 'j@example.com', field__meta: '{nope' },
      });
      await expect(badRecordJson).rejects.toThrow(/^ZAPIER_INVALID_JSON: "meta" is not valid JSON/);
    });

    it('reaches nothing of another organization and nothing above the key’s role', async () => {
      const otherAuth = { ...auth, apiKey: keys.otherOrg };
      expect(await run(App.triggers.model.operation.perform, { meta: { page: 0 } }, otherAuth)).toEqual([]);
      await expect(
        run(App.searches.find_record.operation.perform, { inputData: { model: 'contacts', field: 'email', value: 'ada@example.com' } }, otherAuth),
      ).rejects.toThrow(/"code":"MODEL_NOT_FOUND"/);
      await expect(run(App.creates.run_flow.operation.perform, { inputData: { flow: flowId, input: {} } }, otherAuth)).rejects.toThrow(
        /"code":"FLOW_NOT_FOUND"/,
      );

      const viewer = { ...auth, apiKey: keys.viewer };
      expect(
        await run<Json[]>(App.searches.find_record.operation.perform, { inputData: { model: 'contacts', field: 'email', value: 'ada@example.com' } }, viewer),
      ).toHaveLength(1);
      await expect(
        run(App.creates.create_record.operation.perform, { inputData: { model: 'contacts', field__email: 'v@example.com' } }, viewer),
      ).rejects.toThrow(/"code":"FORBIDDEN","status":403/);
      await expect(
        run(App.triggers.new_record.operation.performSubscribe, { targetUrl: receiver.url('/viewer'), inputData: { model: 'contacts' } }, viewer),
      ).rejects.toThrow(/"code":"FORBIDDEN","status":403/);
    });

    it('New Record: subscribes, a real signed delivery triggers the Zap, unsubscribing removes the webhook', async () => {
      const op = App.triggers.new_record.operation;
      const sub = await run<Json>(op.performSubscribe, { targetUrl: receiver.url('/zap/new'), inputData: { model: 'contacts' } });
      expect(sub).toMatchObject({ url: receiver.url('/zap/new'), events: ['record.created'], model: 'contacts' });
      expect(sub.secret).toMatch(/^whsec_/);

      const record = await ok('POST', '/data/contacts', { email: 'hook@example.com', full_name: 'Hooked' });
      const delivery = await until('the delivery of the new record', async () =>
        receiver.inbox.items.find((r) => r.path === '/zap/new' && (r.json.data.record as Json).id === record.id),
      );
      verifyDelivery(sub.secret, delivery); // the reference implementation agrees the delivery is genuine
      const request = asZapierRequest(delivery);
      const out = await run<Json[]>(op.perform, { ...request, subscribeData: sub, inputData: { model: 'contacts' } });
      expect(out).toEqual([expect.objectContaining({ id: record.id, email: 'hook@example.com', full_name: 'Hooked' })]);

      // A body changed on the way, or a signature made with another secret, is refused.
      const tampered = { ...request, rawRequest: { ...request.rawRequest, content: request.rawRequest.content.replace('Hooked', 'Hacked') } };
      await expect(run(op.perform, { ...tampered, subscribeData: sub, inputData: { model: 'contacts' } })).rejects.toThrow(
        /"code":"WEBHOOK_SIGNATURE_INVALID"/,
      );
      const otherSecret = { ...sub, secret: `whsec_${Buffer.alloc(32, 7).toString('base64')}` };
      await expect(run(op.perform, { ...request, subscribeData: otherSecret, inputData: { model: 'contacts' } })).rejects.toThrow(/WEBHOOK_SIGNATURE_INVALID/);
      // An event for another model starts nothing.
      expect(await run(op.perform, { ...request, subscribeData: sub, inputData: { model: 'companies' } })).toEqual([]);

      const samples = await run<Json[]>(op.performList, { inputData: { model: 'contacts' }, meta: { limit: 2 } });
      expect(samples.map((r) => r.email)).toEqual(['hook@example.com', 'grace@example.com']);

      expect(await run(op.performUnsubscribe, { subscribeData: sub, inputData: { model: 'contacts' } })).toEqual({ id: sub.id });
      expect((await call(server.url, 'GET', `/webhooks/${sub.id as string}`)).status).toBe(404);
      const hooks = (await ok('GET', '/webhooks')) as unknown as Json[];
      expect(hooks.map((h) => h.id)).not.toContain(sub.id);
    });

    it('Updated Record: a change is delivered with the changed fields, and each change is its own event', async () => {
      const op = App.triggers.updated_record.operation;
      const sub = await run<Json>(op.performSubscribe, { targetUrl: receiver.url('/zap/updated'), inputData: { model: 'contacts' } });
      expect(sub).toMatchObject({ events: ['record.updated'], model: 'contacts' });
      const [ada] = (await ok('GET', '/data/contacts?filter[email][eq]=ada@example.com')) as unknown as Json[];
      const changed = await ok('PATCH', `/data/contacts/${ada!.id as string}`, { level: 'junior' });

      const delivery = await until('the delivery of the update', async () => receiver.inbox.items.find((r) => r.path === '/zap/updated'));
      const out = await run<Json[]>(op.perform, { ...asZapierRequest(delivery), subscribeData: sub, inputData: { model: 'contacts' } });
      expect(out).toEqual([expect.objectContaining({ id: `${ada!.id}:${changed.updatedAt}`, recordId: ada!.id, level: 'junior', changedFields: ['level'] })]);

      const samples = await run<Json[]>(op.performList, { inputData: { model: 'contacts' }, meta: { limit: 1 } });
      expect(samples).toEqual([expect.objectContaining({ id: `${ada!.id}:${changed.updatedAt}`, recordId: ada!.id })]);

      await run(op.performUnsubscribe, { subscribeData: sub, inputData: { model: 'contacts' } });
      expect((await call(server.url, 'GET', `/webhooks/${sub.id as string}`)).status).toBe(404);
    });
  });
}

describe('Zapier app definition', () => {
  it('passes the platform’s schema validation', () => {
    expect(schema.validateApp(schema.prepareApp(App))).toEqual([]);
  });

  it('sends the API key to the connected Infinity only', () => {
    const bundle = { authData: { baseUrl: 'https://infinity.example.com/', apiKey: 'inf_secret' } } as never;
    const addApiKey = App.beforeRequest[0]!;
    expect(addApiKey({ url: 'https://infinity.example.com/api/v1/me', headers: {} }, {} as never, bundle).headers).toMatchObject({ 'X-API-Key': 'inf_secret' });
    expect(addApiKey({ url: 'https://infinity.example.com.evil.example/api/v1/me', headers: {} }, {} as never, bundle).headers).not.toHaveProperty('X-API-Key');
    expect(addApiKey({ url: 'https://other.example/hook', headers: {} }, {} as never, bundle).headers).not.toHaveProperty('X-API-Key');
  });

  it('checks Standard Webhooks signatures as the reference implementation makes them, and refuses stale ones', () => {
    const secret = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;
    const body = '{"id":"e1","type":"record.created","timestamp":"2026-05-04T10:11:12Z","data":{}}';
    const at = new Date('2026-05-04T10:11:12Z');
    const signature = new Webhook(secret).sign('msg_1', at, body);
    const headers = { 'Http-Webhook-Id': 'msg_1', 'Http-Webhook-Timestamp': String(at.getTime() / 1000), 'Http-Webhook-Signature': `v1,bogus ${signature}` };
    const now = at.getTime();
    expect(signatureProblem({ secret, headers, body, now })).toBeUndefined();
    const lower = { 'webhook-id': 'msg_1', 'webhook-timestamp': headers['Http-Webhook-Timestamp'], 'webhook-signature': signature };
    expect(signatureProblem({ secret, headers: lower, body, now })).toBeUndefined();
    expect(signatureProblem({ secret, headers, body, now: now + 6 * 60_000 })).toMatch(/five minutes/);
    expect(signatureProblem({ secret, headers: { ...headers, 'Http-Webhook-Id': 'msg_2' }, body, now })).toMatch(/no v1 signature/);
    expect(signatureProblem({ secret, headers: {}, body, now })).toMatch(/no webhook-id/);
  });

  it('passes `zapier validate --without-style`, offline', { timeout: 120_000 }, () => {
    const r = spawnSync(process.execPath, ['scripts/validate.js'], { cwd: appDir, encoding: 'utf8', timeout: 110_000 });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('This project is structurally sound!');
  });
});
