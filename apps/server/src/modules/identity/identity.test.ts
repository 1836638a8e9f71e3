import { describe, expect, it } from 'vitest';
import { describeEachDb } from '../../platform/testing/harness.js';
import { addMember, createApiKey, signUp } from '../../platform/testing/actors.js';

describeEachDb('identity: sign-up, sessions, organizations', (h) => {
  it('signs up with a personal organization where the user is owner, and /me says so', async () => {
    const u = await signUp(h(), 'Ada');
    const me = await h().request({ method: 'GET', url: '/api/v1/me', token: u.token });
    expect(me.statusCode).toBe(200);
    const d = me.json().data;
    expect(d).toMatchObject({ kind: 'user', role: 'owner', user: { email: u.email, name: 'Ada' }, organization: { id: u.orgId, personal: true } });
    expect(d.organization.schema).toMatch(/^org_[0-9a-f]{32}$/);
    const schema = await h().db.pool.query('select 1 from information_schema.schemata where schema_name = $1', [d.organization.schema]);
    expect(schema.rowCount).toBe(1);
  });

  it('refuses a second account with the same email in any case', async () => {
    const u = await signUp(h());
    const res = await h().request({
      method: 'POST',
      url: '/api/v1/auth/signup',
      body: { name: 'X', email: u.email.toUpperCase(), password: 'another password' },
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('AUTH_EMAIL_TAKEN');
  });

  it.each([
    ['wrong password', (e: string) => ({ email: e, password: 'not the password' }), 401, 'AUTH_INVALID_CREDENTIALS'],
    ['unknown email', () => ({ email: 'nobody@example.com', password: 'whatever pw' }), 401, 'AUTH_INVALID_CREDENTIALS'],
    ['missing password', (e: string) => ({ email: e }), 400, 'VALIDATION_FAILED'],
  ])('login with %s → %i %s', async (_label, body, status, code) => {
    const u = await signUp(h());
    const res = await h().request({ method: 'POST', url: '/api/v1/auth/login', body: body(u.email) });
    expect(res.statusCode).toBe(status);
    expect(res.json().error.code).toBe(code);
  });

  it('logs in, and audits success and failure in the user’s organization', async () => {
    const u = await signUp(h());
    await h().request({ method: 'POST', url: '/api/v1/auth/login', body: { email: u.email, password: 'bad password' } });
    const ok = await h().request({ method: 'POST', url: '/api/v1/auth/login', body: { email: u.email, password: u.password } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().data.organization.id).toBe(u.orgId);
    const audit = await h().request({ method: 'GET', url: '/api/v1/audit?action=AUTH_LOGIN,AUTH_LOGIN_FAILED', token: u.token });
    expect(audit.json().data.map((e: { action: string }) => e.action)).toEqual(['AUTH_LOGIN', 'AUTH_LOGIN_FAILED']);
  });

  it('throttles login per email after the configured failures, with Retry-After', async () => {
    const u = await signUp(h());
    for (let i = 0; i < 5; i++) {
      const r = await h().request({ method: 'POST', url: '/api/v1/auth/login', body: { email: u.email, password: `wrong ${i}` } });
      expect(r.statusCode).toBe(401);
    }
    const blocked = await h().request({ method: 'POST', url: '/api/v1/auth/login', body: { email: u.email, password: u.password } });
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().error.code).toBe('AUTH_LOGIN_THROTTLED');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('rotates the refresh token, and reuse of an old one revokes the whole family', async () => {
    const u = await signUp(h());
    const first = await h().request({ method: 'POST', url: '/api/v1/auth/refresh', headers: { cookie: `infinity_refresh=${u.refreshCookie}` } });
    expect(first.statusCode).toBe(200);
    const next = first.cookies.find((c) => c.name === 'infinity_refresh');
    expect(next?.httpOnly).toBe(true);
    expect(next?.value).not.toBe(u.refreshCookie);
    const newAccess = first.json().data.accessToken;
    expect((await h().request({ method: 'GET', url: '/api/v1/me', token: newAccess })).statusCode).toBe(200);

    const reuse = await h().request({ method: 'POST', url: '/api/v1/auth/refresh', headers: { cookie: `infinity_refresh=${u.refreshCookie}` } });
    expect(reuse.statusCode).toBe(401);
    expect(reuse.json().error.code).toBe('AUTH_REFRESH_REUSED');
    const afterReuse = await h().request({ method: 'POST', url: '/api/v1/auth/refresh', headers: { cookie: `infinity_refresh=${next?.value}` } });
    expect(afterReuse.statusCode).toBe(401);
  });

  it('logout revokes the session’s refresh token', async () => {
    const u = await signUp(h());
    expect((await h().request({ method: 'POST', url: '/api/v1/auth/logout', token: u.token })).statusCode).toBe(204);
    const r = await h().request({ method: 'POST', url: '/api/v1/auth/refresh', headers: { cookie: `infinity_refresh=${u.refreshCookie}` } });
    expect(r.statusCode).toBe(401);
    expect(r.json().error.code).toBe('AUTH_REFRESH_INVALID');
  });

  it('rejects forged and malformed access tokens', async () => {
    for (const token of ['not-a-jwt', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', `${(await signUp(h())).token}x`]) {
      const r = await h().request({ method: 'GET', url: '/api/v1/me', token });
      expect(r.statusCode).toBe(401);
      expect(r.json().error.code).toBe('AUTH_TOKEN_INVALID');
    }
    expect((await h().request({ method: 'GET', url: '/api/v1/me' })).json().error.code).toBe('UNAUTHENTICATED');
  });

  it('creates, switches to, renames and deletes an organization', async () => {
    const u = await signUp(h());
    const created = await h().request({ method: 'POST', url: '/api/v1/orgs', token: u.token, body: { name: 'Acme' } });
    expect(created.statusCode).toBe(201);
    const org = created.json().data;
    expect(org).toMatchObject({ name: 'Acme', role: 'owner', personal: false });
    const list = await h().request({ method: 'GET', url: '/api/v1/orgs', token: u.token });
    expect(list.json().data.map((o: { id: string }) => o.id)).toEqual([u.orgId, org.id]);
    const sw = await h().request({ method: 'POST', url: '/api/v1/auth/switch', token: u.token, body: { organizationId: org.id } });
    expect(sw.statusCode).toBe(200);
    const me = await h().request({ method: 'GET', url: '/api/v1/me', token: sw.json().data.accessToken });
    expect(me.json().data.organization.id).toBe(org.id);
    const viaHeader = await h().request({ method: 'GET', url: '/api/v1/me', token: u.token, headers: { 'x-org-id': org.id } });
    expect(viaHeader.json().data.organization.id).toBe(org.id);
    const renamed = await h().request({ method: 'PATCH', url: `/api/v1/orgs/${org.id}`, token: u.token, body: { name: 'Acme Inc' } });
    expect(renamed.json().data.name).toBe('Acme Inc');
    expect((await h().request({ method: 'DELETE', url: `/api/v1/orgs/${u.orgId}`, token: u.token })).json().error.code).toBe('ORG_PERSONAL_UNDELETABLE');
    expect((await h().request({ method: 'DELETE', url: `/api/v1/orgs/${org.id}`, token: u.token })).statusCode).toBe(204);
    const schema = await h().db.pool.query('select 1 from information_schema.schemata where schema_name = $1', [org.schema]);
    expect(schema.rowCount).toBe(0);
  });

  it('switch after logout is refused (it used to issue fresh tokens for a logged-out session)', async () => {
    const u = await signUp(h());
    const other = (await h().request({ method: 'POST', url: '/api/v1/orgs', token: u.token, body: { name: 'Other' } })).json().data;
    expect((await h().request({ method: 'POST', url: '/api/v1/auth/logout', token: u.token })).statusCode).toBe(204);
    const sw = await h().request({ method: 'POST', url: '/api/v1/auth/switch', token: u.token, body: { organizationId: other.id } });
    expect(sw.statusCode, sw.body).toBe(401);
    expect(sw.json().error.code).toBe('AUTH_SESSION_ENDED');
    expect(sw.body).not.toContain('accessToken');
  });

  it('switch after refresh-token reuse revoked the session is refused', async () => {
    const u = await signUp(h());
    const other = (await h().request({ method: 'POST', url: '/api/v1/orgs', token: u.token, body: { name: 'Other' } })).json().data;
    const cookie = { cookie: `infinity_refresh=${u.refreshCookie}` };
    expect((await h().request({ method: 'POST', url: '/api/v1/auth/refresh', headers: cookie })).statusCode).toBe(200);
    expect((await h().request({ method: 'POST', url: '/api/v1/auth/refresh', headers: cookie })).json().error.code).toBe('AUTH_REFRESH_REUSED');
    const sw = await h().request({ method: 'POST', url: '/api/v1/auth/switch', token: u.token, body: { organizationId: other.id } });
    expect(sw.statusCode, sw.body).toBe(401);
    expect(sw.json().error.code).toBe('AUTH_SESSION_ENDED');
  });

  it('the token a switch issues never outlives its session', async () => {
    const u = await signUp(h());
    const other = (await h().request({ method: 'POST', url: '/api/v1/orgs', token: u.token, body: { name: 'Other' } })).json().data;
    // The session's live refresh token lapses in 60 s: a switched token may live no longer.
    await h().db.pool.query(`update refresh_tokens set expires_at = now() + interval '60 seconds' where user_id = $1`, [u.id]);
    const sw = await h().request({ method: 'POST', url: '/api/v1/auth/switch', token: u.token, body: { organizationId: other.id } });
    expect(sw.statusCode, sw.body).toBe(200);
    expect(sw.json().data.expiresIn).toBeLessThanOrEqual(60);
    const claims = JSON.parse(Buffer.from(String(sw.json().data.accessToken).split('.')[1]!, 'base64url').toString()) as { exp: number };
    expect(claims.exp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 61);
  });

  it('after removal from the active organization, /me, /orgs and switch still work (they answered 403)', async () => {
    const owner = await signUp(h());
    const member = await signUp(h());
    const mt = await addMember(h(), owner, member, 'editor');
    expect((await h().request({ method: 'DELETE', url: `/api/v1/members/${member.id}`, token: owner.token })).statusCode).toBe(204);
    const me = await h().request({ method: 'GET', url: '/api/v1/me', token: mt });
    expect(me.statusCode, me.body).toBe(200);
    expect(me.json().data).toMatchObject({ kind: 'user', user: { id: member.id }, organization: null, role: null });
    const orgs = await h().request({ method: 'GET', url: '/api/v1/orgs', token: mt });
    expect(orgs.statusCode, orgs.body).toBe(200);
    expect(orgs.json().data.map((o: { id: string }) => o.id)).toEqual([member.orgId]);
    expect((await h().request({ method: 'GET', url: `/api/v1/orgs/${member.orgId}`, token: mt })).statusCode).toBe(200);
    const sw = await h().request({ method: 'POST', url: '/api/v1/auth/switch', token: mt, body: { organizationId: member.orgId } });
    expect(sw.statusCode, sw.body).toBe(200);
    expect((await h().request({ method: 'GET', url: '/api/v1/me', token: sw.json().data.accessToken })).json().data.organization.id).toBe(member.orgId);
    // Leaving yourself ends the same way.
    const mt2 = await addMember(h(), owner, member, 'viewer');
    expect((await h().request({ method: 'DELETE', url: `/api/v1/members/${member.id}`, token: mt2 })).statusCode).toBe(204);
    expect((await h().request({ method: 'GET', url: '/api/v1/orgs', token: mt2 })).statusCode).toBe(200);
    // Routes that need an organization still say so.
    expect((await h().request({ method: 'GET', url: '/api/v1/members', token: mt })).json().error.code).toBe('AUTH_NO_ORGANIZATION');
  });

  it.each([
    ['a top-ten password', () => '12345678', 'common'],
    ['"password"', () => 'password', 'common'],
    ['a common password with small changes', () => 'P@ssw0rd123', 'common'],
    ['the user’s own email', (email: string) => email, 'personal'],
    ['a repeated character', () => 'aaaaaaaaaaaa', 'guessable'],
    ['a keyboard row', () => 'qwertyuiop', 'common'],
  ])('refuses %s at sign-up with a field error (only the length was checked)', async (_label, pw, code) => {
    const email = `weak.${Date.now()}.${Math.random().toString(36).slice(2)}@example.com`;
    const res = await h().request({ method: 'POST', url: '/api/v1/auth/signup', body: { name: 'Weak Pw', email, password: pw(email) } });
    expect(res.statusCode, res.body).toBe(422);
    const err = res.json().error;
    expect(err.code).toBe('AUTH_PASSWORD_WEAK');
    expect(err.details).toEqual([{ field: 'password', code, message: expect.any(String) }]);
    expect(err.message).toMatch(/^The password /);
    const row = await h().db.pool.query('select 1 from users where lower(email) = lower($1)', [email]);
    expect(row.rowCount).toBe(0);
  });

  it.each(['correct horse battery', 'ci password 1', 'analytical engine'])('accepts the passphrase %j', async (password) => {
    const email = `ok.${Date.now()}.${Math.random().toString(36).slice(2)}@example.com`;
    const res = await h().request({ method: 'POST', url: '/api/v1/auth/signup', body: { name: 'Passphrase', email, password } });
    expect(res.statusCode, res.body).toBe(201);
  });
});

describeEachDb('identity: members, roles, invitations', (h) => {
  it('invites by email; the accepting user gets the invited role; a viewer is read-only', async () => {
    const owner = await signUp(h());
    const viewer = await signUp(h());
    const vt = await addMember(h(), owner, viewer, 'viewer');
    const me = await h().request({ method: 'GET', url: '/api/v1/me', token: vt });
    expect(me.json().data).toMatchObject({ role: 'viewer', organization: { id: owner.orgId } });
    const table: [string, string, unknown, number][] = [
      ['GET', '/api/v1/members', undefined, 200],
      ['POST', '/api/v1/api-keys', { name: 'x', role: 'viewer' }, 403],
      ['GET', '/api/v1/api-keys', undefined, 403],
      ['POST', '/api/v1/secrets', { name: 'x', provider: 'generic', value: 'abcdefgh' }, 403],
      ['GET', '/api/v1/secrets', undefined, 403],
      ['POST', '/api/v1/invitations', { email: 'z@example.com', role: 'viewer' }, 403],
      ['GET', '/api/v1/audit', undefined, 403],
      ['PATCH', `/api/v1/orgs/${owner.orgId}`, { name: 'Hijack' }, 403],
    ];
    for (const [method, url, body, status] of table) {
      const r = await h().request({ method, url, token: vt, body });
      expect(r.statusCode, `${method} ${url}: ${r.body}`).toBe(status);
      if (status === 403) expect(r.json().error.code).toBe('FORBIDDEN');
    }
  });

  it('refuses an invitation accepted by another email, expired, or twice', async () => {
    const owner = await signUp(h());
    const stranger = await signUp(h());
    const inv = await h().request({
      method: 'POST',
      url: '/api/v1/invitations',
      token: owner.token,
      body: { email: 'someone.else@example.com', role: 'editor' },
    });
    const token = inv.json().data.token;
    const wrong = await h().request({ method: 'POST', url: `/api/v1/invitations/${token}/accept`, token: stranger.token });
    expect(wrong.json().error.code).toBe('INVITATION_EMAIL_MISMATCH');
    const bogus = await h().request({ method: 'POST', url: '/api/v1/invitations/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/accept', token: stranger.token });
    expect(bogus.json().error.code).toBe('INVITATION_NOT_FOUND');

    const inv2 = await h().request({ method: 'POST', url: '/api/v1/invitations', token: owner.token, body: { email: stranger.email, role: 'editor' } });
    await h().db.pool.query(`update invitations set expires_at = now() - interval '1 minute' where id = $1`, [inv2.json().data.id]);
    const expired = await h().request({ method: 'POST', url: `/api/v1/invitations/${inv2.json().data.token}/accept`, token: stranger.token });
    expect(expired.statusCode).toBe(410);

    const inv3 = await h().request({ method: 'POST', url: '/api/v1/invitations', token: owner.token, body: { email: stranger.email, role: 'editor' } });
    const t3 = inv3.json().data.token;
    expect((await h().request({ method: 'POST', url: `/api/v1/invitations/${t3}/accept`, token: stranger.token })).statusCode).toBe(200);
    expect((await h().request({ method: 'POST', url: `/api/v1/invitations/${t3}/accept`, token: stranger.token })).json().error.code).toBe(
      'INVITATION_NOT_FOUND',
    );
    const pending = await h().request({ method: 'GET', url: '/api/v1/invitations', token: owner.token });
    expect(pending.json().data.map((i: { id: string }) => i.id)).toEqual([inv.json().data.id]);
    expect((await h().request({ method: 'DELETE', url: `/api/v1/invitations/${inv.json().data.id}`, token: owner.token })).statusCode).toBe(204);
  });

  it('keeps the last owner, and never lets an admin act above their role', async () => {
    const owner = await signUp(h());
    const admin = await signUp(h());
    const at = await addMember(h(), owner, admin, 'admin');
    const demoteSelf = await h().request({ method: 'PATCH', url: `/api/v1/members/${owner.id}`, token: owner.token, body: { role: 'admin' } });
    expect(demoteSelf.json().error.code).toBe('MEMBER_LAST_OWNER');
    const leave = await h().request({ method: 'DELETE', url: `/api/v1/members/${owner.id}`, token: owner.token });
    expect(leave.json().error.code).toBe('MEMBER_LAST_OWNER');
    const adminDemotesOwner = await h().request({ method: 'PATCH', url: `/api/v1/members/${owner.id}`, token: at, body: { role: 'viewer' } });
    expect(adminDemotesOwner.json().error.code).toBe('MEMBER_ROLE_TOO_HIGH');
    const adminMakesOwner = await h().request({ method: 'PATCH', url: `/api/v1/members/${admin.id}`, token: at, body: { role: 'owner' } });
    expect(adminMakesOwner.json().error.code).toBe('MEMBER_ROLE_TOO_HIGH');
    const promote = await h().request({ method: 'PATCH', url: `/api/v1/members/${admin.id}`, token: owner.token, body: { role: 'owner' } });
    expect(promote.json().data).toEqual({ userId: admin.id, role: 'owner' });
    // Now two owners: the first may step down, and the role change is immediate for the token.
    expect((await h().request({ method: 'PATCH', url: `/api/v1/members/${owner.id}`, token: owner.token, body: { role: 'editor' } })).statusCode).toBe(200);
    expect((await h().request({ method: 'GET', url: '/api/v1/api-keys', token: owner.token })).statusCode).toBe(403);
    const members = await h().request({ method: 'GET', url: '/api/v1/members', token: at });
    expect(members.json().meta.total).toBe(2);
    const audit = await h().request({ method: 'GET', url: '/api/v1/audit?action=MEMBER_ROLE_CHANGE', token: at });
    expect(audit.json().data).toHaveLength(2);
  });

  it('lets any member leave, after which the organization is gone for them', async () => {
    const owner = await signUp(h());
    const editor = await signUp(h());
    const et = await addMember(h(), owner, editor, 'editor');
    expect((await h().request({ method: 'DELETE', url: `/api/v1/members/${editor.id}`, token: et })).statusCode).toBe(204);
    const r = await h().request({ method: 'GET', url: `/api/v1/orgs/${owner.orgId}`, token: editor.token });
    expect(r.statusCode).toBe(404);
  });
});

describeEachDb('identity: API keys', (h) => {
  it('shows the key once, lists it by prefix, authenticates both headers, and stops at revocation', async () => {
    const owner = await signUp(h());
    const { id, key } = await createApiKey(h(), owner.token, 'editor');
    expect(key).toMatch(/^inf_[A-Za-z0-9_-]{43}$/);
    const list = await h().request({ method: 'GET', url: '/api/v1/api-keys', token: owner.token });
    const listed = list.json().data[0];
    expect(listed).toMatchObject({ id, role: 'editor', prefix: key.slice(0, 12) });
    expect(JSON.stringify(list.json())).not.toContain(key);
    const stored = await h().db.pool.query('select key_hash from api_keys where id = $1', [id]);
    expect(stored.rows[0]!.key_hash).not.toContain(key);

    for (const headers of [{ 'x-api-key': key }, { authorization: `Bearer ${key}` }] as Record<string, string>[]) {
      const me = await h().request({ method: 'GET', url: '/api/v1/me', headers });
      expect(me.json().data).toMatchObject({ kind: 'apiKey', role: 'editor', organization: { id: owner.orgId }, apiKey: { id } });
    }
    // An editor key cannot manage keys; last use is recorded off the request path.
    expect((await h().request({ method: 'GET', url: '/api/v1/api-keys', apiKey: key })).statusCode).toBe(403);
    const { flushKeyUses } = await import('./api-keys.service.js');
    await flushKeyUses(h().built.identity);
    const used = await h().request({ method: 'GET', url: '/api/v1/api-keys', token: owner.token });
    expect(used.json().data[0].lastUsedAt).not.toBeNull();

    expect((await h().request({ method: 'DELETE', url: `/api/v1/api-keys/${id}`, token: owner.token })).statusCode).toBe(204);
    const after = await h().request({ method: 'GET', url: '/api/v1/me', apiKey: key });
    expect(after.statusCode).toBe(401);
    expect(after.json().error.code).toBe('AUTH_API_KEY_INVALID');
  });

  it('caps a key’s role at its creator’s and honours expiry', async () => {
    const owner = await signUp(h());
    const admin = await signUp(h());
    const at = await addMember(h(), owner, admin, 'admin');
    const tooHigh = await h().request({ method: 'POST', url: '/api/v1/api-keys', token: at, body: { name: 'x', role: 'owner' } });
    expect(tooHigh.json().error.code).toBe('API_KEY_ROLE_TOO_HIGH');
    const past = await h().request({
      method: 'POST',
      url: '/api/v1/api-keys',
      token: at,
      body: { name: 'x', role: 'viewer', expiresAt: '2001-01-01T00:00:00Z' },
    });
    expect(past.statusCode).toBe(400);
    const { id, key } = await createApiKey(h(), at, 'viewer');
    await h().db.pool.query(`update api_keys set expires_at = now() - interval '1 second' where id = $1`, [id]);
    h().built.identity.cache.forgetOrg(owner.orgId);
    expect((await h().request({ method: 'GET', url: '/api/v1/me', apiKey: key })).json().error.code).toBe('AUTH_API_KEY_INVALID');
  });

  it('an API key cannot create organizations or accept invitations (people only)', async () => {
    const owner = await signUp(h());
    const { key } = await createApiKey(h(), owner.token, 'admin');
    const r = await h().request({ method: 'POST', url: '/api/v1/orgs', apiKey: key, body: { name: 'x' } });
    expect(r.statusCode).toBe(403);
    expect(r.json().error.code).toBe('AUTH_USER_REQUIRED');
  });

  it('an admin’s personal key acts as a viewer once its creator is demoted to viewer (it kept admin power)', async () => {
    const owner = await signUp(h());
    const admin = await signUp(h());
    const at = await addMember(h(), owner, admin, 'admin');
    const { key } = await createApiKey(h(), at, 'admin');
    expect((await h().request({ method: 'GET', url: '/api/v1/audit', apiKey: key })).statusCode).toBe(200);
    expect((await h().request({ method: 'PATCH', url: `/api/v1/members/${admin.id}`, token: owner.token, body: { role: 'viewer' } })).statusCode).toBe(200);
    const me = await h().request({ method: 'GET', url: '/api/v1/me', apiKey: key });
    expect(me.json().data).toMatchObject({ kind: 'apiKey', role: 'viewer', apiKey: { kind: 'personal' } });
    const table: [string, string, unknown][] = [
      ['POST', '/api/v1/api-keys', { name: 'escalate', role: 'admin' }],
      ['POST', '/api/v1/api-keys', { name: 'escalate', role: 'admin', kind: 'service' }],
      ['GET', '/api/v1/audit', undefined],
      ['GET', '/api/v1/secrets', undefined],
      ['PATCH', `/api/v1/members/${admin.id}`, { role: 'admin' }],
      ['POST', '/api/v1/models', { name: 'nope', fields: [{ name: 'a', type: 'string' }] }],
    ];
    for (const [method, url, body] of table) {
      const r = await h().request({ method, url, apiKey: key, body });
      expect(r.statusCode, `${method} ${url}: ${r.body}`).toBe(403);
    }
    expect((await h().request({ method: 'GET', url: '/api/v1/members', apiKey: key })).statusCode).toBe(200);
    // Promoted back to editor: the admin key acts as an editor (never above its own role either).
    await h().request({ method: 'PATCH', url: `/api/v1/members/${admin.id}`, token: owner.token, body: { role: 'editor' } });
    expect((await h().request({ method: 'GET', url: '/api/v1/me', apiKey: key })).json().data.role).toBe('editor');
  });

  it('a removed member’s personal keys stop at once (401)', async () => {
    const owner = await signUp(h());
    const admin = await signUp(h());
    const at = await addMember(h(), owner, admin, 'admin');
    const { key } = await createApiKey(h(), at, 'editor');
    expect((await h().request({ method: 'GET', url: '/api/v1/me', apiKey: key })).statusCode).toBe(200);
    expect((await h().request({ method: 'DELETE', url: `/api/v1/members/${admin.id}`, token: owner.token })).statusCode).toBe(204);
    for (const url of ['/api/v1/me', '/api/v1/flows']) {
      const r = await h().request({ method: 'GET', url, apiKey: key });
      expect(r.statusCode, r.body).toBe(401);
      expect(r.json().error.code).toBe('AUTH_API_KEY_INVALID');
    }
  });

  it('a service-account key belongs to the organization: it survives its creator’s removal', async () => {
    const owner = await signUp(h());
    const admin = await signUp(h());
    const at = await addMember(h(), owner, admin, 'admin');
    const created = await h().request({ method: 'POST', url: '/api/v1/api-keys', token: at, body: { name: 'n8n', role: 'editor', kind: 'service' } });
    expect(created.statusCode, created.body).toBe(201);
    const { id, key } = created.json().data as { id: string; key: string };
    expect(created.json().data).toMatchObject({ kind: 'service', role: 'editor', createdBy: admin.id });
    const personal = await createApiKey(h(), at, 'editor');
    const list = (await h().request({ method: 'GET', url: '/api/v1/api-keys', token: owner.token })).json().data as {
      id: string;
      kind: string;
      createdBy: string;
      createdByName: string;
    }[];
    expect(list.find((k) => k.id === id)).toMatchObject({ kind: 'service', createdBy: admin.id, createdByName: 'Test User' });
    expect(list.find((k) => k.id === personal.id)).toMatchObject({ kind: 'personal', createdBy: admin.id });

    expect((await h().request({ method: 'DELETE', url: `/api/v1/members/${admin.id}`, token: owner.token })).statusCode).toBe(204);
    const me = await h().request({ method: 'GET', url: '/api/v1/me', apiKey: key });
    expect(me.statusCode, me.body).toBe(200);
    expect(me.json().data).toMatchObject({ kind: 'apiKey', role: 'editor', organization: { id: owner.orgId }, apiKey: { id, kind: 'service' } });
    expect(
      (await h().request({ method: 'POST', url: '/api/v1/models', apiKey: key, body: { name: 'svc_things', fields: [{ name: 'a', type: 'string' }] } }))
        .statusCode,
    ).toBe(201);
    expect((await h().request({ method: 'GET', url: '/api/v1/me', apiKey: personal.key })).statusCode).toBe(401);
    // Revocable by the organization's owners and admins, like any key.
    expect((await h().request({ method: 'DELETE', url: `/api/v1/api-keys/${id}`, token: owner.token })).statusCode).toBe(204);
    expect((await h().request({ method: 'GET', url: '/api/v1/me', apiKey: key })).statusCode).toBe(401);
  });

  it('service-account keys: owners and admins only, never above their role; a service key makes only service keys', async () => {
    const owner = await signUp(h());
    const admin = await signUp(h());
    const editor = await signUp(h());
    const at = await addMember(h(), owner, admin, 'admin');
    const et = await addMember(h(), owner, editor, 'editor');
    expect(
      (await h().request({ method: 'POST', url: '/api/v1/api-keys', token: et, body: { name: 's', role: 'viewer', kind: 'service' } })).json().error.code,
    ).toBe('FORBIDDEN');
    expect(
      (await h().request({ method: 'POST', url: '/api/v1/api-keys', token: at, body: { name: 's', role: 'owner', kind: 'service' } })).json().error.code,
    ).toBe('API_KEY_ROLE_TOO_HIGH');
    expect((await h().request({ method: 'POST', url: '/api/v1/api-keys', token: at, body: { name: 's', role: 'viewer', kind: 'robot' } })).statusCode).toBe(
      400,
    );
    const svc = (
      await h().request({ method: 'POST', url: '/api/v1/api-keys', token: owner.token, body: { name: 'ops', role: 'admin', kind: 'service' } })
    ).json().data.key as string;
    const personal = await h().request({ method: 'POST', url: '/api/v1/api-keys', apiKey: svc, body: { name: 'p', role: 'viewer' } });
    expect(personal.json().error.code).toBe('API_KEY_PERSON_REQUIRED');
    // Regression (review of #25): a key that mints a service-account key outlives its own revocation
    // (and a personal key its creator's removal). Only a signed-in owner or admin makes one.
    const child = await h().request({ method: 'POST', url: '/api/v1/api-keys', apiKey: svc, body: { name: 'c', role: 'viewer', kind: 'service' } });
    expect(child.json().error.code, child.body).toBe('API_KEY_SESSION_REQUIRED');
    const adminKey = (await h().request({ method: 'POST', url: '/api/v1/api-keys', token: at, body: { name: 'mine', role: 'admin' } })).json().data
      .key as string;
    const minted = await h().request({ method: 'POST', url: '/api/v1/api-keys', apiKey: adminKey, body: { name: 'escape', role: 'admin', kind: 'service' } });
    expect(minted.json().error.code, minted.body).toBe('API_KEY_SESSION_REQUIRED');
  });

  it('regression (review of #25): a removed member’s personal keys are revoked, so re-inviting them does not revive the keys', async () => {
    const owner = await signUp(h());
    const admin = await signUp(h());
    const at = await addMember(h(), owner, admin, 'admin');
    const key = (await h().request({ method: 'POST', url: '/api/v1/api-keys', token: at, body: { name: 'k', role: 'admin' } })).json().data.key as string;
    expect((await h().request({ method: 'GET', url: '/api/v1/me', apiKey: key })).statusCode).toBe(200);
    expect((await h().request({ method: 'DELETE', url: `/api/v1/members/${admin.id}`, token: owner.token })).statusCode).toBe(204);
    expect((await h().request({ method: 'GET', url: '/api/v1/me', apiKey: key })).statusCode).toBe(401);
    await addMember(h(), owner, admin, 'admin');
    expect((await h().request({ method: 'GET', url: '/api/v1/me', apiKey: key })).statusCode).toBe(401);
  });
});

describeEachDb('identity: running needs the role that runs (SPEC §2: editor runs, viewer reads)', (h) => {
  const node = (id: string, type: string, params: Record<string, unknown> = {}) => ({ id, type, name: id, position: { x: 0, y: 0 }, params });

  it('a viewer key cannot run a flow through an apiKey webhook or /run/{slug} (it could); editors can; public stays public', async () => {
    const owner = await signUp(h());
    const viewer = await signUp(h());
    const vt = await addMember(h(), owner, viewer, 'viewer');
    const viewerKey = (await createApiKey(h(), owner.token, 'viewer')).key;
    const editorKey = (await createApiKey(h(), owner.token, 'editor')).key;
    const hooked = await h().request({
      method: 'POST',
      url: '/api/v1/flows',
      token: owner.token,
      body: {
        name: 'Keyed hook',
        nodes: [
          node('hook', 'trigger.webhook', { path: 'in', auth: 'apiKey', respond: 'whenFinished' }),
          node('out', 'core.output', { value: '{{ $input.body }}' }),
        ],
        edges: [{ id: 'e', source: 'hook', target: 'out' }],
      },
    });
    expect(hooked.statusCode, hooked.body).toBe(201);
    const hookId = hooked.json().data.id as string;
    expect((await h().request({ method: 'PATCH', url: `/api/v1/flows/${hookId}`, token: owner.token, body: { active: true } })).statusCode).toBe(200);
    const published = (
      await h().request({
        method: 'POST',
        url: '/api/v1/flows',
        token: owner.token,
        body: {
          name: 'Published',
          nodes: [node('in', 'core.input'), node('out', 'core.output', { value: '{{ $input }}' })],
          edges: [{ id: 'e', source: 'in', target: 'out' }],
        },
      })
    ).json().data.id as string;
    const slug = `keyed-${h().kind}-${Date.now()}`;
    expect(
      (await h().request({ method: 'POST', url: `/api/v1/flows/${published}/publish`, token: owner.token, body: { slug, access: 'apiKey' } })).statusCode,
    ).toBe(200);
    const publicFlow = (
      await h().request({
        method: 'POST',
        url: '/api/v1/flows',
        token: owner.token,
        body: {
          name: 'Public',
          nodes: [node('in', 'core.input'), node('out', 'core.output', { value: '{{ $input }}' })],
          edges: [{ id: 'e', source: 'in', target: 'out' }],
        },
      })
    ).json().data.id as string;
    const publicSlug = `public-${h().kind}-${Date.now()}`;
    expect(
      (await h().request({ method: 'POST', url: `/api/v1/flows/${publicFlow}/publish`, token: owner.token, body: { slug: publicSlug, access: 'public' } }))
        .statusCode,
    ).toBe(200);

    const executions = async () => Number((await h().db.pool.query('select count(*)::int as n from executions where org_id = $1', [owner.orgId])).rows[0]!.n);
    const before = await executions();
    const cases: [string, string, Record<string, string>, number][] = [
      ['viewer key, webhook', `/api/v1/hooks/${hookId}/in`, { 'x-api-key': viewerKey }, 403],
      ['viewer token, webhook', `/api/v1/hooks/${hookId}/in`, { authorization: `Bearer ${vt}` }, 403],
      ['viewer key, /run', `/api/v1/run/${slug}`, { 'x-api-key': viewerKey }, 403],
      ['viewer token, /run', `/api/v1/run/${slug}`, { authorization: `Bearer ${vt}` }, 403],
    ];
    for (const [label, url, headers, status] of cases) {
      const r = await h().request({ method: 'POST', url, headers, body: { n: 1 } });
      expect(r.statusCode, `${label}: ${r.body}`).toBe(status);
      expect(r.json().error.code, label).toBe('FORBIDDEN');
    }
    expect(await executions()).toBe(before);
    expect((await h().request({ method: 'POST', url: `/api/v1/hooks/${hookId}/in`, apiKey: editorKey, body: { n: 2 } })).json()).toEqual({ n: 2 });
    expect((await h().request({ method: 'POST', url: `/api/v1/run/${slug}`, apiKey: editorKey, body: { n: 3 } })).json()).toEqual({ data: { n: 3 } });
    // The consumer path: a flow published for everyone needs no credential.
    expect((await h().request({ method: 'POST', url: `/api/v1/run/${publicSlug}`, body: { n: 4 } })).json()).toEqual({ data: { n: 4 } });
  });
});

describe('login throttle (unit)', () => {
  it('counts failures per email and IP in a sliding window', async () => {
    const { LoginThrottle } = await import('./login-throttle.js');
    let now = 0;
    const t = new LoginThrottle({ perEmail: 2, perIp: 3, windowSeconds: 60 }, () => now);
    t.recordFailure('A@x.io', '1.1.1.1');
    expect(t.retryAfter('a@x.io', '1.1.1.1')).toBe(0);
    t.recordFailure('a@x.io', '1.1.1.1');
    expect(t.retryAfter('a@x.io', '2.2.2.2')).toBe(60);
    t.recordFailure('b@x.io', '1.1.1.1');
    expect(t.retryAfter('c@x.io', '1.1.1.1')).toBe(60);
    now = 61_000;
    expect(t.retryAfter('a@x.io', '1.1.1.1')).toBe(0);
  });
});
