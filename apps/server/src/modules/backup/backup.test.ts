import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { createApiKey, signUp } from '../../platform/testing/actors.js';
import { testBackends } from '../../platform/testing/backends.js';
import { type Harness, createHarness, describeEachDb, openTestDatabase } from '../../platform/testing/harness.js';
import { verifyAuditChain } from '../audit/index.js';
import { revealSecret } from '../vault/index.js';
import { backupInstance, restoreInstance, runScheduledBackup } from '../system/index.js';
import { loadConfig } from '../../config/index.js';

const node = (id: string, type: string, params: Record<string, unknown> = {}) => ({ id, type, name: id, position: { x: 0, y: 0 }, params });
const edge = (source: string, target: string) => ({ id: `${source}-${target}`, source, target });

/** The other database when both are tested: backups must cross between them. */
const otherThan = (kind: 'pglite' | 'postgres') =>
  testBackends().includes(kind === 'pglite' ? 'postgres' : 'pglite') ? (kind === 'pglite' ? 'postgres' : 'pglite') : kind;

const admin = (h: Harness) => ({ config: h.config, db: h.db.kysely, vault: h.built.vault, database: h.db });

describeEachDb('backup and restore', (h) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'infinity-backup-test-'));
  const file = path.join(dir, 'instance.infinity-backup');
  let owner: Awaited<ReturnType<typeof signUp>>;
  let key: string;
  let secretId: string;
  let other: Awaited<ReturnType<typeof signUp>>;
  const req = (target: Harness, method: string, url: string, body?: unknown) => target.request({ method, url, apiKey: key, body });

  it('builds an instance with models, relations, embeddings, records, flows, executions, agents and secrets, and backs it up', async () => {
    owner = await signUp(h());
    other = await signUp(h(), 'Other');
    key = (await createApiKey(h(), owner.token, 'admin')).key;
    secretId = (await req(h(), 'POST', '/api/v1/secrets', { name: 'OpenAI', provider: 'openai', value: 'sk-restore-me-please-0042' })).json().data.id;
    expect(
      (await req(h(), 'POST', '/api/v1/models', { name: 'companies', fields: [{ name: 'name', type: 'string', required: true, unique: true }] })).statusCode,
    ).toBe(201);
    expect(
      (
        await req(h(), 'POST', '/api/v1/models', {
          name: 'people',
          fields: [
            { name: 'name', type: 'string' },
            { name: 'bio', type: 'text' },
            { name: 'tags', type: 'array', items: 'string' },
            { name: 'meta', type: 'json' },
            { name: 'born', type: 'date' },
            { name: 'company', type: 'relation', target: 'companies', onDelete: 'cascade' },
          ],
        })
      ).statusCode,
    ).toBe(201);
    // A relation to itself: rows must load in any order.
    expect(
      (await req(h(), 'PATCH', '/api/v1/models/people', { addFields: [{ name: 'manager', type: 'relation', target: 'people', onDelete: 'set null' }] }))
        .statusCode,
    ).toBe(200);
    expect(
      (await req(h(), 'PATCH', '/api/v1/models/people', { embedding: { enabled: true, provider: 'local', dimensions: 64, sourceFields: ['bio'] } })).statusCode,
    ).toBe(200);
    const acme = (await req(h(), 'POST', '/api/v1/data/companies', { name: 'Acme' })).json().data.id;
    const boss = (await req(h(), 'POST', '/api/v1/data/people', { name: 'Boss', bio: 'Runs the place', company: acme })).json().data.id;
    for (let i = 0; i < 30; i++)
      await req(h(), 'POST', '/api/v1/data/people', {
        name: `P${i}`,
        bio: `Person ${i} likes ${i % 2 ? 'tea' : 'coffee'}`,
        tags: ['a', `t${i}`],
        meta: { i },
        born: '1990-01-02',
        company: acme,
        manager: boss,
      });
    await h().built.embeddings.drain();
    const f = await req(h(), 'POST', '/api/v1/flows', {
      name: 'Echo',
      nodes: [node('in', 'core.input'), node('out', 'core.output', { value: '{{ $input }}' })],
      edges: [edge('in', 'out')],
    });
    expect((await req(h(), 'POST', `/api/v1/flows/${f.json().data.id as string}/run?wait=true`, { input: { hello: 'world' } })).json().data.status).toBe(
      'succeeded',
    );
    expect((await req(h(), 'POST', '/api/v1/agents', { name: 'Helper', provider: 'openai', model: 'gpt-4o-mini', secretId })).statusCode).toBe(201);

    const report = await backupInstance(admin(h()), { out: file });
    expect(report.rows).toBeGreaterThan(60);
    expect(report.sha256).toMatch(/^[0-9a-f]{64}$/);
    const audit = (await h().request({ method: 'GET', url: '/api/v1/audit?action=MODEL_CREATE', token: owner.token })).json().data;
    expect(audit).toHaveLength(2);
  });

  it('restores into a fresh database of the other kind: every record equal, secrets decrypt, audit chains verify', async () => {
    const kind = otherThan(h().kind);
    const target = await createHarness(kind, {}, { db: await openTestDatabase(kind), keys: h().keys });
    try {
      const r = await restoreInstance(admin(target), file);
      expect(r).toMatchObject({ organizations: 2, scope: { orgId: null }, source: { kind: h().kind } });
      for (const url of [
        '/api/v1/data/people?limit=100&sort=name',
        '/api/v1/data/companies',
        '/api/v1/models',
        '/api/v1/flows',
        '/api/v1/executions',
        '/api/v1/agents',
        '/api/v1/secrets',
      ]) {
        const before = (await req(h(), 'GET', url)).json();
        const after = (await req(target, 'GET', url)).json();
        expect(after, url).toEqual(before);
      }
      const emb = (await req(target, 'GET', '/api/v1/models/people/embeddings')).json().data;
      expect(emb).toMatchObject({ total: 31, done: 31, pending: 0 });
      const search = async (x: Harness) =>
        (await req(x, 'POST', '/api/v1/data/people/search', { query: 'likes tea', k: 3 })).json().data.map((p: { id: string }) => p.id);
      expect(await search(target)).toEqual(await search(h()));
      const actor = { kind: 'apiKey' as const, apiKeyId: 'test', orgId: owner.orgId, role: 'admin' as const, userId: owner.id };
      expect((await revealSecret(target.built.vault, actor, secretId, 'restore test')).value).toBe('sk-restore-me-please-0042');
      const verify = await verifyAuditChain(target.db.kysely);
      expect(verify.ok, JSON.stringify(verify.problems)).toBe(true);
      // The restored instance works on: users log in with their passwords, new records get new ids.
      const login = await target.request({ method: 'POST', url: '/api/v1/auth/login', body: { email: owner.email, password: owner.password } });
      expect(login.statusCode).toBe(200);
      expect((await req(target, 'POST', '/api/v1/data/people', { name: 'After restore', manager: null })).statusCode).toBe(201);
      // A second restore into it is refused: it is not empty.
      await expect(restoreInstance(admin(target), file)).rejects.toMatchObject({ code: 'BACKUP_TARGET_NOT_EMPTY' });
    } finally {
      await target.close();
    }
  });

  it('a truncated or altered archive is refused with a clear error and nothing is written', async () => {
    const kind = otherThan(h().kind);
    const target = await createHarness(kind, {}, { db: await openTestDatabase(kind), keys: h().keys });
    try {
      const raw = readFileSync(file);
      const truncated = path.join(dir, 'truncated');
      writeFileSync(truncated, raw.subarray(0, Math.floor(raw.length * 0.7)));
      await expect(restoreInstance(admin(target), truncated)).rejects.toMatchObject({
        code: 'BACKUP_ARCHIVE_INVALID',
        message: expect.stringMatching(/truncated/),
      });
      const text = gunzipSync(raw).toString('utf8');
      const altered = path.join(dir, 'altered');
      writeFileSync(altered, gzipSync(text.replace('"name":"Acme"', '"name":"Evil"')));
      await expect(restoreInstance(admin(target), altered)).rejects.toMatchObject({
        code: 'BACKUP_ARCHIVE_INVALID',
        message: expect.stringMatching(/checksum/),
      });
      const lines = text.trimEnd().split('\n');
      const dropped = path.join(dir, 'dropped');
      writeFileSync(dropped, gzipSync(`${lines.slice(0, -1).join('\n')}\n`));
      await expect(restoreInstance(admin(target), dropped)).rejects.toMatchObject({ code: 'BACKUP_ARCHIVE_INVALID', message: expect.stringMatching(/no end/) });
      const notOurs = path.join(dir, 'not-ours');
      writeFileSync(notOurs, gzipSync('{"hello":"world"}\n'));
      await expect(restoreInstance(admin(target), notOurs)).rejects.toMatchObject({ code: 'BACKUP_ARCHIVE_INVALID' });
      const n = await sql<{
        n: string;
      }>`select (select count(*) from users) + (select count(*) from organizations) + (select count(*) from audit_log) as n`.execute(target.db.kysely);
      expect(Number(n.rows[0]!.n)).toBe(0);
    } finally {
      await target.close();
    }
  });

  it('one organization: backed up alone and restored into another instance next to its own data', async () => {
    const orgFile = path.join(dir, 'org.infinity-backup');
    await backupInstance(admin(h()), { out: orgFile, orgId: owner.orgId });
    const text = gunzipSync(readFileSync(orgFile)).toString('utf8');
    expect(text).not.toContain(other.email);
    const kind = otherThan(h().kind);
    const target = await createHarness(kind, {}, { db: await openTestDatabase(kind), keys: h().keys });
    try {
      const resident = await signUp(target, 'Resident');
      const r = await restoreInstance(admin(target), orgFile);
      expect(r).toMatchObject({ organizations: 1, scope: { orgId: owner.orgId } });
      expect((await req(target, 'GET', '/api/v1/data/people?limit=100&sort=name')).json()).toEqual(
        (await req(h(), 'GET', '/api/v1/data/people?limit=100&sort=name')).json(),
      );
      expect((await target.request({ method: 'GET', url: '/api/v1/me', token: resident.token })).statusCode).toBe(200);
      expect((await target.request({ method: 'POST', url: '/api/v1/auth/login', body: { email: other.email, password: other.password } })).statusCode).toBe(
        401,
      );
      expect((await verifyAuditChain(target.db.kysely)).ok).toBe(true);
      await expect(restoreInstance(admin(target), orgFile)).rejects.toMatchObject({ code: 'BACKUP_TARGET_NOT_EMPTY' });
    } finally {
      await target.close();
    }
  });

  it('scheduled backups: one archive per run in the folder, the oldest beyond the count removed', async () => {
    const folder = mkdtempSync(path.join(os.tmpdir(), 'infinity-scheduled-'));
    const schedule = { pattern: '0 3 * * *', dir: folder, keep: 2 };
    for (const day of ['2026-01-01', '2026-01-02', '2026-01-03']) await runScheduledBackup(admin(h()), schedule, new Date(`${day}T03:00:00Z`));
    expect(readdirSync(folder).sort()).toEqual(['infinity-20260102T030000Z.backup', 'infinity-20260103T030000Z.backup']);
    expect(() => loadConfig({ INFINITY_BACKUP_SCHEDULE: 'every night' })).toThrow(/INFINITY_BACKUP_SCHEDULE: not a cron pattern/);
  });
});
