/**
 * The upgrade path a growing team takes, as an operator types it: an embedded instance →
 * `infinity backup` (while the server runs, and stopped) → `infinity restore` into a fresh
 * PostgreSQL database → `infinity audit verify` → the server on PostgreSQL serves the same data.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { testBackends } from '../../apps/server/src/platform/testing/backends.js';
import { e2eEnv, runCli, startServer } from './server-process.js';

type Json = Record<string, any>;

async function call(base: string, method: string, p: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Json }> {
  const r = await fetch(`${base}${p}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await r.text();
  return { status: r.status, json: text ? (JSON.parse(text) as Json) : {} };
}

describe.runIf(testBackends().includes('postgres'))('backup and restore with the CLI: embedded → PostgreSQL', () => {
  it('round trip: every record equal, secrets usable, audit verified; a damaged archive is refused', async () => {
    const embedded = await e2eEnv('pglite', 'backup-src');
    const dir = embedded.INFINITY_DATA_DIR!;
    const s = await startServer([], { ...embedded, INFINITY_DEFAULT_PLAN: 'enterprise' });
    const su = await call(s.url, 'POST', '/api/v1/auth/signup', { name: 'Owner', email: 'owner@example.com', password: 'correct horse battery' });
    const auth = { authorization: `Bearer ${su.json.data.accessToken as string}` };
    const key = (await call(s.url, 'POST', '/api/v1/api-keys', { name: 'ops', role: 'admin' }, auth)).json.data.key as string;
    const k = { 'x-api-key': key };
    await call(
      s.url,
      'POST',
      '/api/v1/models',
      {
        name: 'products',
        fields: [
          { name: 'sku', type: 'string', unique: true, required: true },
          { name: 'price', type: 'number' },
        ],
      },
      k,
    );
    await call(
      s.url,
      'POST',
      '/api/v1/data/products/bulk',
      { op: 'create', items: Array.from({ length: 2500 }, (_, i) => ({ sku: `SKU-${i}`, price: i / 10 })) },
      k,
    );
    // A webhook flow signed with a vault secret: after the restore the secret must still verify signatures.
    const secret = (await call(s.url, 'POST', '/api/v1/secrets', { name: 'hook', provider: 'generic', value: 'whsec-upgrade-path-1234', allowedHosts: [] }, k))
      .json.data.id as string;
    const flow = await call(
      s.url,
      'POST',
      '/api/v1/flows',
      {
        name: 'Signed',
        nodes: [
          {
            id: 'hook',
            type: 'trigger.webhook',
            name: 'hook',
            position: { x: 0, y: 0 },
            params: { method: 'POST', respond: 'whenFinished', auth: 'hmac', signature: { style: 'github', secretId: secret } },
          },
          { id: 'out', type: 'core.output', name: 'out', position: { x: 0, y: 0 }, params: { value: '{{ { "ok": true } }}' } },
        ],
        edges: [{ id: 'e', source: 'hook', target: 'out' }],
      },
      k,
    );
    expect(flow.status, JSON.stringify(flow.json)).toBe(201);
    const flowId = flow.json.data.id as string;
    expect((await call(s.url, 'PATCH', `/api/v1/flows/${flowId}`, { active: true }, k)).status).toBe(200);

    // While the server holds the embedded database, the CLI asks it to write the archive.
    const live = runCli(['backup', '--out', path.join(dir, 'live.backup'), '--data', dir], {});
    expect(live.status, live.out).toBe(0);
    expect(live.out).toMatch(/asking it to do this/);
    const before = (await call(s.url, 'GET', '/api/v1/data/products?limit=1000&sort=sku', undefined, k)).json;
    await s.stop();

    const archive = path.join(dir, 'instance.backup');
    const b = runCli(['backup', '--out', archive, '--data', dir], {});
    expect(b.status, b.out).toBe(0);
    expect(b.out).toMatch(/backing up \[.*\] 100% \| \d+\/\d+ rows/);
    expect(b.out).toMatch(/Backup written to .*: \d+ rows in \d+ tables, sha256 [0-9a-f]{64}/);

    // The target needs the source's master key (secrets stay encrypted in the archive).
    const keys = JSON.parse(readFileSync(path.join(dir, 'keys.json'), 'utf8')) as { masterKeys: string[]; jwtSecret: string };
    const pgEnv = { ...(await e2eEnv('postgres', 'backup-dst')), INFINITY_MASTER_KEY: keys.masterKeys[0]!, INFINITY_DEFAULT_PLAN: 'enterprise' };
    const damaged = path.join(dir, 'damaged.backup');
    writeFileSync(damaged, readFileSync(archive).subarray(0, 2000));
    const refused = runCli(['restore', damaged], pgEnv);
    expect(refused.status).toBe(1);
    expect(refused.out).toMatch(/BACKUP_ARCHIVE_INVALID/);
    const r = runCli(['restore', archive], pgEnv);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/Restored \d+ rows \(1 organizations\) from a pglite backup/);
    const v = runCli(['audit', 'verify'], pgEnv);
    expect(v.status, v.out).toBe(0);
    expect(v.out).toMatch(/Audit log intact/);

    const p = await startServer([], pgEnv);
    try {
      expect((await call(p.url, 'GET', '/api/v1/data/products?limit=1000&sort=sku', undefined, k)).json).toEqual(before);
      // The vault secret decrypts on PostgreSQL: a signed webhook call is accepted, a wrongly signed one refused.
      const { createHmac } = await import('node:crypto');
      const body = JSON.stringify({ order: 1 });
      const sig = `sha256=${createHmac('sha256', 'whsec-upgrade-path-1234').update(body).digest('hex')}`;
      const ok = await fetch(`${p.url}/api/v1/hooks/${flowId}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': sig },
        body,
      });
      expect(ok.status, await ok.text()).toBe(200);
      const bad = await fetch(`${p.url}/api/v1/hooks/${flowId}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': 'sha256=00' },
        body,
      });
      expect(bad.status).toBe(401);
      const login = await call(p.url, 'POST', '/api/v1/auth/login', { email: 'owner@example.com', password: 'correct horse battery' });
      expect(login.status).toBe(200);
    } finally {
      await p.stop();
    }
  }, 240_000);
});
