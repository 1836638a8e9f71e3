/**
 * The foundation as a user meets it: the built `infinity` binary started as a process, real HTTP,
 * the real database (embedded PGlite in a data folder, and PostgreSQL), the CLI for operators.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../apps/server/src/platform/db/index.js';
import { testBackends } from '../../apps/server/src/platform/testing/backends.js';
import { e2eEnv, runCli, startServer, type RunningServer } from './server-process.js';

const SECRET = 'sk-proj-E2E-NEVER-SHOWN-abcdefghijklmnop-9f2c';

async function call(s: RunningServer, method: string, p: string, opts: { token?: string; key?: string; body?: unknown } = {}) {
  const res = await fetch(`${s.url}${p}`, {
    method,
    headers: {
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.key ? { 'x-api-key': opts.key } : {}),
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, text, json: text ? (JSON.parse(text) as { data?: any; error?: { code: string } }) : {} };
}

/** Alters one audit row behind the application's back, as a DBA could. */
async function tamper(env: Record<string, string>, dataDir: string) {
  const db = env.DATABASE_URL
    ? await openDatabase({ postgresUrl: env.DATABASE_URL, poolSize: 1 })
    : await openDatabase({ pgliteDataDir: path.join(dataDir, 'pgdata') });
  await db.pool.query('alter table audit_log disable trigger audit_log_append_only');
  await db.pool.query(`update audit_log set details = '{"forged":true}' where action = 'SECRET_CREATE'`);
  await db.pool.query('alter table audit_log enable trigger audit_log_append_only');
  await db.close();
}

for (const backend of testBackends()) {
  describe(`foundation end to end [${backend}]`, () => {
    it('walks sign-up → orgs → invitations → roles → API keys → vault → audit, across a restart', async () => {
      const env = await e2eEnv(backend, 'foundation', false);
      const dataDir = env.INFINITY_DATA_DIR!;
      if (backend === 'postgres') {
        // PostgreSQL mode refuses to start without explicit keys.
        const refused = runCli(['start', '--port', '0'], env);
        expect(refused.status).toBe(78);
        expect(refused.out).toContain('INFINITY_MASTER_KEY');
        env.INFINITY_MASTER_KEY = randomBytes(32).toString('base64');
        env.INFINITY_JWT_SECRET = randomBytes(32).toString('hex');
      }

      let s = await startServer([], env);
      expect((await call(s, 'GET', '/health/ready')).json).toMatchObject({ status: 'ok' });
      const docs = await fetch(`${s.url}/docs/`);
      expect(docs.status).toBe(200);
      expect(await docs.text()).toContain('swagger');
      const spec = (await call(s, 'GET', '/api/v1/openapi.json')).json as unknown as { openapi: string; paths: Record<string, unknown> };
      expect(spec.openapi).toBe('3.1.0');
      expect(Object.keys(spec.paths)).toContain('/api/v1/api-keys');

      const ada = (await call(s, 'POST', '/api/v1/auth/signup', { body: { name: 'Ada', email: 'ada@example.com', password: 'correct horse battery' } })).json
        .data;
      const login = await call(s, 'POST', '/api/v1/auth/login', { body: { email: 'ada@example.com', password: 'correct horse battery' } });
      expect(login.status).toBe(200);
      let adaToken: string = login.json.data.accessToken;
      const acme = (await call(s, 'POST', '/api/v1/orgs', { token: adaToken, body: { name: 'Acme' } })).json.data;
      adaToken = (await call(s, 'POST', '/api/v1/auth/switch', { token: adaToken, body: { organizationId: acme.id } })).json.data.accessToken;

      const join = async (name: string, email: string, role: string) => {
        const inv = (await call(s, 'POST', '/api/v1/invitations', { token: adaToken, body: { email, role } })).json.data;
        const t = (await call(s, 'POST', '/api/v1/auth/signup', { body: { name, email, password: `${name} password 1` } })).json.data.accessToken;
        expect((await call(s, 'POST', `/api/v1/invitations/${inv.token}/accept`, { token: t })).status).toBe(200);
        return (await call(s, 'POST', '/api/v1/auth/switch', { token: t, body: { organizationId: acme.id } })).json.data.accessToken as string;
      };
      const viewer = await join('Vic', 'vic@example.com', 'viewer');
      const admin = await join('Ann', 'ann@example.com', 'admin');

      expect((await call(s, 'POST', '/api/v1/api-keys', { token: viewer, body: { name: 'x', role: 'viewer' } })).status).toBe(403);
      expect((await call(s, 'POST', '/api/v1/secrets', { token: viewer, body: { name: 'x', provider: 'openai', value: 'sk-xxxxxxxxxxxx' } })).status).toBe(403);

      const created = (await call(s, 'POST', '/api/v1/api-keys', { token: admin, body: { name: 'n8n', role: 'editor' } })).json.data;
      const me = await call(s, 'GET', '/api/v1/me', { key: created.key });
      expect(me.json.data).toMatchObject({ kind: 'apiKey', role: 'editor', organization: { id: acme.id } });
      expect((await call(s, 'DELETE', `/api/v1/api-keys/${created.id}`, { token: admin })).status).toBe(204);
      expect((await call(s, 'GET', '/api/v1/me', { key: created.key })).status).toBe(401);

      const secret = await call(s, 'POST', '/api/v1/secrets', { token: admin, body: { name: 'openai', provider: 'openai', value: SECRET } });
      expect(secret.json.data.hint).toBe('sk-…9f2c');
      const seen = [
        secret.text,
        (await call(s, 'GET', '/api/v1/secrets', { token: admin })).text,
        (await call(s, 'GET', `/api/v1/secrets/${secret.json.data.id}`, { token: admin })).text,
      ];

      const audit = await call(s, 'GET', '/api/v1/audit?limit=100', { token: adaToken });
      seen.push(audit.text);
      const actions = (audit.json.data as { action: string }[]).map((e) => e.action);
      for (const a of ['ORG_CREATE', 'INVITATION_CREATE', 'INVITATION_ACCEPT', 'API_KEY_CREATE', 'API_KEY_REVOKE', 'SECRET_CREATE'])
        expect(actions).toContain(a);
      for (const text of seen) expect(text).not.toContain('NEVER-SHOWN');

      // Rotation while the server runs (embedded: the CLI forwards to the server holding the database).
      const rotated = runCli(['keys', 'rotate'], env);
      expect(rotated.status, rotated.out).toBe(0);
      expect(rotated.out).toMatch(/data keys re-wrapped/);
      expect((await call(s, 'GET', '/api/v1/secrets', { token: admin })).status).toBe(200);

      // A personal key never acts above its creator and ends with their membership; a
      // service-account key belongs to the organization and outlives them.
      const weak = await call(s, 'POST', '/api/v1/auth/signup', { body: { name: 'Weak', email: 'weak@example.com', password: 'password' } });
      expect(weak.status).toBe(422);
      expect(weak.json.error).toMatchObject({ code: 'AUTH_PASSWORD_WEAK', details: [{ field: 'password' }] });
      const personal = (await call(s, 'POST', '/api/v1/api-keys', { token: admin, body: { name: 'script', role: 'admin' } })).json.data;
      const service = (await call(s, 'POST', '/api/v1/api-keys', { token: admin, body: { name: 'zapier', role: 'editor', kind: 'service' } })).json.data;
      expect(service).toMatchObject({ kind: 'service', role: 'editor' });
      const annId = (await call(s, 'GET', '/api/v1/me', { token: admin })).json.data.user.id as string;
      expect((await call(s, 'PATCH', `/api/v1/members/${annId}`, { token: adaToken, body: { role: 'viewer' } })).status).toBe(200);
      expect((await call(s, 'GET', '/api/v1/me', { key: personal.key })).json.data.role).toBe('viewer');
      expect((await call(s, 'GET', '/api/v1/audit', { key: personal.key })).status).toBe(403);
      expect((await call(s, 'DELETE', `/api/v1/members/${annId}`, { token: adaToken })).status).toBe(204);
      expect((await call(s, 'GET', '/api/v1/me', { key: personal.key })).status).toBe(401);
      expect((await call(s, 'GET', '/api/v1/me', { key: service.key })).json.data).toMatchObject({
        role: 'editor',
        apiKey: { kind: 'service' },
        organization: { id: acme.id },
      });
      // Removed from her active organization, Ann still finds her own.
      expect((await call(s, 'GET', '/api/v1/orgs', { token: admin })).json.data.map((o: { name: string }) => o.name)).toEqual(["Ann's workspace"]);
      // Logged out, Vic cannot mint fresh tokens through a switch.
      expect((await call(s, 'POST', '/api/v1/auth/logout', { token: viewer })).status).toBe(204);
      expect((await call(s, 'POST', '/api/v1/auth/switch', { token: viewer, body: { organizationId: acme.id } })).status).toBe(401);

      expect(await s.stop('SIGTERM')).toBe(0);
      expect(s.output.join('\n')).toContain('"stopped"');
      expect(existsSync(path.join(dataDir, 'server.json'))).toBe(false);
      expect(s.output.join('\n')).not.toContain('NEVER-SHOWN');
      expect(s.output.join('\n')).not.toContain(created.key);

      // Restart on the same data: everything is still there.
      s = await startServer([], env);
      const again = await call(s, 'POST', '/api/v1/auth/login', { body: { email: 'ada@example.com', password: 'correct horse battery' } });
      expect(again.json.data.organization.id).toBe(acme.id);
      const secrets = await call(s, 'GET', '/api/v1/secrets', { token: again.json.data.accessToken });
      expect(secrets.json.data.map((x: { name: string }) => x.name)).toEqual(['openai']);
      expect(ada.user.email).toBe('ada@example.com');
      expect(await s.stop('SIGINT')).toBe(0);
      expect(s.output.join('\n')).not.toContain('NEVER-SHOWN');

      const ok = runCli(['audit', 'verify'], env);
      expect(ok.status, ok.out).toBe(0);
      expect(ok.out).toContain('Audit log intact');
      await tamper(env, dataDir);
      const bad = runCli(['audit', 'verify'], env);
      expect(bad.status).toBe(1);
      expect(bad.out).toContain('AUDIT LOG ALTERED');

      const doctor = runCli(['doctor'], env);
      expect(doctor.out).toContain('pgvector');
      expect(doctor.out).toMatch(/migrations\s+\d+ applied/);
      // With pgvector (the embedded database), the vector indexes are compared with the buffer pool.
      if (backend === 'pglite') expect(doctor.out).toMatch(/✓ vector indexes\s+0 MB, within the 16 MB buffer pool/);
    }, 150_000); // two embedded server starts (initdb) and a restart: ~50 s alone on 2 cores, more beside other suites
  });
}
