import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { masterKeyFromBase64 } from '../../config/index.js';
import { open, seal } from '../../platform/crypto/index.js';
import { createApiKey, signUp } from '../../platform/testing/actors.js';
import { describeEachDb } from '../../platform/testing/harness.js';
import type { OrgActor } from '../access/index.js';
import { Keyring } from './keyring.js';
import { hostAllowed } from './vault.hosts.js';
import { createVaultContext, maskHint, revealSecret, rewrapAllDataKeys } from './vault.service.js';

const VALUE = 'sk-live-THIS-MUST-NEVER-LEAK-0123456789-9f2c';

describeEachDb('vault', (h) => {
  it('stores a secret encrypted and never returns, logs or stores its value in clear', async () => {
    const u = await signUp(h());
    const created = await h().request({ method: 'POST', url: '/api/v1/secrets', token: u.token, body: { name: 'openai', provider: 'openai', value: VALUE } });
    expect(created.statusCode).toBe(201);
    const s = created.json().data;
    expect(s).toMatchObject({ name: 'openai', provider: 'openai', hint: 'sk-…9f2c', baseUrl: null });
    const responses = [
      created.body,
      (await h().request({ method: 'GET', url: '/api/v1/secrets', token: u.token })).body,
      (await h().request({ method: 'GET', url: `/api/v1/secrets/${s.id}`, token: u.token })).body,
      (await h().request({ method: 'PATCH', url: `/api/v1/secrets/${s.id}`, token: u.token, body: { name: 'openai-main' } })).body,
      (await h().request({ method: 'GET', url: '/api/v1/audit', token: u.token })).body,
    ];
    for (const body of responses) expect(body).not.toContain('NEVER-LEAK');
    const row = await h().db.pool.query('select ciphertext, hint from secrets where id = $1', [s.id]);
    expect(Buffer.from(row.rows[0]!.ciphertext as Buffer).toString('latin1')).not.toContain('NEVER-LEAK');
    const dump = await h().db.pool.query(`select string_agg(t::text, '') as all from (select * from secrets) t`);
    expect(dump.rows[0]!.all).not.toContain('NEVER-LEAK');
    expect(h().logs.join('')).not.toContain('NEVER-LEAK');
  });

  it('decrypts for server-side use, audits each use, and binds the ciphertext to its row', async () => {
    const u = await signUp(h());
    const a = (
      await h().request({ method: 'POST', url: '/api/v1/secrets', token: u.token, body: { name: 'a', provider: 'generic', value: VALUE, allowedHosts: [] } })
    ).json().data;
    const b = (
      await h().request({
        method: 'POST',
        url: '/api/v1/secrets',
        token: u.token,
        body: { name: 'b', provider: 'generic', value: 'other-value-123', allowedHosts: [] },
      })
    ).json().data;
    const actor: OrgActor = { kind: 'user', userId: u.id, orgId: u.orgId, role: 'owner', sessionId: 's' };
    const revealed = await revealSecret(h().built.vault, actor, a.id, 'test');
    expect(revealed.value).toBe(VALUE);
    const uses = await h().request({ method: 'GET', url: '/api/v1/audit?action=SECRET_USE', token: u.token });
    expect(uses.json().data[0]).toMatchObject({ action: 'SECRET_USE', target: { type: 'secret', id: a.id }, details: { purpose: 'test' } });
    // Copying A's ciphertext onto B must not decrypt: the AAD names the secret.
    await h().db.pool.query('update secrets set ciphertext = (select ciphertext from secrets where id = $1) where id = $2', [a.id, b.id]);
    await expect(revealSecret(h().built.vault, actor, b.id, 'test')).rejects.toMatchObject({ code: 'VAULT_DECRYPT_FAILED' });
  });

  it('updates the value, refuses duplicate names, and deletes', async () => {
    const u = await signUp(h());
    const s = (
      await h().request({
        method: 'POST',
        url: '/api/v1/secrets',
        token: u.token,
        body: { name: 'gh', provider: 'github', value: 'ghp_aaaaaaaaaaaaaaaaaaaa1234' },
      })
    ).json().data;
    const dup = await h().request({ method: 'POST', url: '/api/v1/secrets', token: u.token, body: { name: 'gh', provider: 'github', value: 'x'.repeat(20) } });
    expect(dup.json().error.code).toBe('VAULT_SECRET_NAME_TAKEN');
    const upd = await h().request({
      method: 'PATCH',
      url: `/api/v1/secrets/${s.id}`,
      token: u.token,
      body: { value: 'ghp_bbbbbbbbbbbbbbbbbbbb5678', baseUrl: 'https://api.github.com' },
    });
    expect(upd.json().data).toMatchObject({ hint: 'ghp…5678', baseUrl: 'https://api.github.com' });
    const actor: OrgActor = { kind: 'user', userId: u.id, orgId: u.orgId, role: 'owner', sessionId: 's' };
    expect((await revealSecret(h().built.vault, actor, s.id, 't')).value).toBe('ghp_bbbbbbbbbbbbbbbbbbbb5678');
    expect((await h().request({ method: 'PATCH', url: `/api/v1/secrets/${s.id}`, token: u.token, body: {} })).statusCode).toBe(400);
    expect((await h().request({ method: 'DELETE', url: `/api/v1/secrets/${s.id}`, token: u.token })).statusCode).toBe(204);
    expect((await h().request({ method: 'GET', url: `/api/v1/secrets/${s.id}`, token: u.token })).json().error.code).toBe('VAULT_SECRET_NOT_FOUND');
    const actions = (await h().request({ method: 'GET', url: '/api/v1/audit?action=SECRET_CREATE,SECRET_UPDATE,SECRET_DELETE', token: u.token }))
      .json()
      .data.map((e: { action: string }) => e.action);
    expect(actions).toEqual(['SECRET_DELETE', 'SECRET_UPDATE', 'SECRET_CREATE']);
  });

  it('editors read secrets but only admins change them; API keys follow their role', async () => {
    const u = await signUp(h());
    const editorKey = await createApiKey(h(), u.token, 'editor');
    expect((await h().request({ method: 'GET', url: '/api/v1/secrets', apiKey: editorKey.key })).statusCode).toBe(200);
    const w = await h().request({
      method: 'POST',
      url: '/api/v1/secrets',
      apiKey: editorKey.key,
      body: { name: 'n', provider: 'generic', value: 'abcdefgh', allowedHosts: [] },
    });
    expect(w.statusCode).toBe(403);
  });

  it('allowed hosts: provider secrets default to their API hosts (and base URL host); generic secrets must name theirs; only admins change them', async () => {
    const u = await signUp(h());
    const post = (body: Record<string, unknown>, k?: string) =>
      h().request({ method: 'POST', url: '/api/v1/secrets', ...(k ? { apiKey: k } : { token: u.token }), body });
    const hostsOf = async (body: Record<string, unknown>) => {
      const r = await post(body);
      expect(r.statusCode, r.body).toBe(201);
      return r.json().data as { id: string; allowedHosts: string[] };
    };
    expect((await hostsOf({ name: 'o', provider: 'openai', value: VALUE })).allowedHosts).toEqual(['api.openai.com']);
    expect((await hostsOf({ name: 'op', provider: 'openai', value: VALUE, baseUrl: 'https://proxy.example.com/v1' })).allowedHosts).toEqual([
      'api.openai.com',
      'proxy.example.com',
    ]);
    expect((await hostsOf({ name: 'a', provider: 'anthropic', value: VALUE })).allowedHosts).toEqual(['api.anthropic.com']);
    expect((await hostsOf({ name: 'g', provider: 'google', value: VALUE })).allowedHosts).toEqual(['generativelanguage.googleapis.com']);
    expect((await hostsOf({ name: 'st', provider: 'stripe', value: VALUE })).allowedHosts).toEqual(['api.stripe.com']);
    expect((await hostsOf({ name: 'gh', provider: 'github', value: VALUE })).allowedHosts).toEqual(['api.github.com']);
    expect((await hostsOf({ name: 'sl', provider: 'slack', value: VALUE })).allowedHosts).toEqual(['slack.com', 'hooks.slack.com']);
    expect((await hostsOf({ name: 'oc', provider: 'openai-compatible', value: VALUE, baseUrl: 'http://localhost:11434/v1' })).allowedHosts).toEqual([
      'localhost',
    ]);

    const missing = await post({ name: 'gen', provider: 'generic', value: VALUE });
    expect(missing.statusCode).toBe(422);
    expect(missing.json().error.code).toBe('VAULT_SECRET_HOSTS_REQUIRED');
    expect(missing.body).not.toContain('NEVER-LEAK');
    for (const bad of [['https://api.example.com'], ['api.example.com:443'], ['api.example.com/path'], ['*'], ['exa mple.com']]) {
      const r = await post({ name: 'gen', provider: 'generic', value: VALUE, allowedHosts: bad });
      expect(r.statusCode, JSON.stringify(bad)).toBe(400);
      expect(r.json().error.code).toBe('VALIDATION_FAILED');
    }
    const gen = await hostsOf({
      name: 'gen',
      provider: 'generic',
      value: VALUE,
      allowedHosts: ['API.Example.com', '*.example.org', 'api.example.com', '[::1]'],
    });
    expect(gen.allowedHosts).toEqual(['api.example.com', '*.example.org', '::1']);

    const admin = await createApiKey(h(), u.token, 'admin');
    const editor = await createApiKey(h(), u.token, 'editor');
    const patch = (body: Record<string, unknown>, k: string) => h().request({ method: 'PATCH', url: `/api/v1/secrets/${gen.id}`, apiKey: k, body });
    expect((await patch({ allowedHosts: ['evil.example.net'] }, editor.key)).statusCode).toBe(403);
    const changed = await patch({ allowedHosts: ['hooks.example.com'] }, admin.key);
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json().data.allowedHosts).toEqual(['hooks.example.com']);
    // A new base URL is where the admin sends it: its host joins the list.
    expect((await patch({ baseUrl: 'https://other.example.com/api' }, admin.key)).json().data.allowedHosts).toEqual(['hooks.example.com', 'other.example.com']);
    const audit = (await h().request({ method: 'GET', url: '/api/v1/audit?action=SECRET_UPDATE', token: u.token })).json().data;
    expect(
      audit.find((e: { details: { allowedHosts?: string[] } }) => e.details.allowedHosts?.[0] === 'hooks.example.com' && e.details.allowedHosts.length === 1),
    ).toBeDefined();
  });

  it('rotation re-wraps every data key under a new master key; secrets still decrypt, old key no longer needed', async () => {
    const u = await signUp(h());
    const s = (
      await h().request({ method: 'POST', url: '/api/v1/secrets', token: u.token, body: { name: 'rot', provider: 'generic', value: VALUE, allowedHosts: [] } })
    ).json().data;
    const fresh = masterKeyFromBase64(randomBytes(32).toString('base64'), 'new');
    const ring = new Keyring([fresh, ...h().keys.all]);
    const ctx = createVaultContext(h().db.kysely, ring);
    const report = await rewrapAllDataKeys(ctx);
    expect(report.rewrapped).toBeGreaterThan(0);
    expect(report.retiredKeyIds).toContain(h().keys.current.id);
    // A process that only knows the new key decrypts everything.
    const onlyNew = createVaultContext(h().db.kysely, new Keyring([fresh]));
    const actor: OrgActor = { kind: 'user', userId: u.id, orgId: u.orgId, role: 'owner', sessionId: 's' };
    expect((await revealSecret(onlyNew, actor, s.id, 'after rotation')).value).toBe(VALUE);
    const stale = await h().db.pool.query('select count(*)::int as n from org_data_keys where master_key_id <> $1', [fresh.id]);
    expect(stale.rows[0]!.n).toBe(0);
  });
});

describe('vault crypto (unit)', () => {
  it('AES-256-GCM refuses a wrong key, wrong AAD or a flipped bit', () => {
    const key = randomBytes(32);
    const box = seal(key, Buffer.from('hello'), 'aad');
    expect(open(key, box, 'aad').toString()).toBe('hello');
    expect(() => open(randomBytes(32), box, 'aad')).toThrow();
    expect(() => open(key, box, 'other')).toThrow();
    const flipped = Buffer.from(box);
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 1;
    expect(() => open(key, flipped, 'aad')).toThrow();
  });

  it('matches hosts exactly, and *.example.com for subdomains only', () => {
    expect(hostAllowed('api.example.com', ['api.example.com'])).toBe(true);
    expect(hostAllowed('API.EXAMPLE.COM.', ['api.example.com'])).toBe(true);
    expect(hostAllowed('api.example.com.evil.net', ['api.example.com'])).toBe(false);
    expect(hostAllowed('a.example.com', ['*.example.com'])).toBe(true);
    expect(hostAllowed('a.b.example.com', ['*.example.com'])).toBe(true);
    expect(hostAllowed('example.com', ['*.example.com'])).toBe(false);
    expect(hostAllowed('evilexample.com', ['*.example.com'])).toBe(false);
    expect(hostAllowed('[::1]', ['::1'])).toBe(true);
    expect(hostAllowed('anything.com', [])).toBe(false);
  });

  it.each([
    ['sk-abcdefghijklmnop9f2c', 'sk-…9f2c'],
    ['short-val', '…al'],
    ['tiny', '…'],
  ])('masks %s as %s', (value, hint) => {
    expect(maskHint(value)).toBe(hint);
  });
});
