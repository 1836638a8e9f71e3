import { describe, expect, it } from 'vitest';
import { signUp } from '../../platform/testing/actors.js';
import { describeEachDb } from '../../platform/testing/harness.js';
import { canonicalJson } from './canonical-json.js';
import { verifyAuditChain } from './audit.service.js';

describeEachDb('audit log', (h) => {
  it('is append-only in the database itself', async () => {
    await signUp(h());
    await expect(h().db.pool.query(`update audit_log set action = 'X'`)).rejects.toThrow(/append-only/);
    await expect(h().db.pool.query(`delete from audit_log`)).rejects.toThrow(/append-only/);
  });

  it('filters by action, actor and time, newest first, paged', async () => {
    const u = await signUp(h());
    for (let i = 0; i < 3; i++)
      await h().request({
        method: 'POST',
        url: '/api/v1/secrets',
        token: u.token,
        body: { name: `s${i}`, provider: 'generic', value: 'abcdefgh', allowedHosts: [] },
      });
    const all = (await h().request({ method: 'GET', url: '/api/v1/audit', token: u.token })).json();
    expect(all.data.map((e: { action: string }) => e.action)).toEqual(['SECRET_CREATE', 'SECRET_CREATE', 'SECRET_CREATE', 'ORG_CREATE', 'AUTH_SIGNUP']);
    expect(all.meta.total).toBe(5);
    const page = (await h().request({ method: 'GET', url: '/api/v1/audit?limit=2&offset=1', token: u.token })).json();
    expect(page.data.map((e: { seq: number }) => e.seq)).toEqual([4, 3]);
    const byActor = (await h().request({ method: 'GET', url: `/api/v1/audit?actorId=${u.id}&action=SECRET_CREATE`, token: u.token })).json();
    expect(byActor.data).toHaveLength(3);
    const future = (await h().request({ method: 'GET', url: '/api/v1/audit?from=2999-01-01T00:00:00Z', token: u.token })).json();
    expect(future.data).toHaveLength(0);
    const bad = await h().request({ method: 'GET', url: '/api/v1/audit?from=yesterday', token: u.token });
    expect(bad.statusCode).toBe(400);
  });

  it('verification passes on an intact log and names an altered, a removed and a truncated entry', async () => {
    const u = await signUp(h());
    await h().request({
      method: 'POST',
      url: '/api/v1/secrets',
      token: u.token,
      body: { name: 'v', provider: 'generic', value: 'abcdefgh', allowedHosts: [] },
    });
    await h().request({
      method: 'POST',
      url: '/api/v1/secrets',
      token: u.token,
      body: { name: 'w', provider: 'generic', value: 'abcdefgh', allowedHosts: [] },
    });
    const ok = await verifyAuditChain(h().db.kysely, u.orgId);
    expect(ok).toMatchObject({ ok: true, chains: 1, entries: 4 });

    // By hand, as a DBA with the append-only trigger out of the way.
    await h().db.pool.query('alter table audit_log disable trigger audit_log_append_only');
    await h().db.pool.query(`update audit_log set details = '{"name":"forged"}' where org_id = $1 and seq = 3`, [u.orgId]);
    let r = await verifyAuditChain(h().db.kysely, u.orgId);
    expect(r.ok).toBe(false);
    expect(r.problems).toContainEqual(expect.objectContaining({ seq: 3, problem: expect.stringContaining('altered') }));

    await h().db.pool.query('delete from audit_log where org_id = $1 and seq = 2', [u.orgId]);
    r = await verifyAuditChain(h().db.kysely, u.orgId);
    expect(r.problems).toContainEqual(expect.objectContaining({ seq: 2, problem: expect.stringContaining('missing') }));

    await h().db.pool.query('delete from audit_log where org_id = $1 and seq = 4', [u.orgId]);
    r = await verifyAuditChain(h().db.kysely, u.orgId);
    expect(r.problems).toContainEqual(expect.objectContaining({ problem: expect.stringContaining('entries removed') }));
    await h().db.pool.query('alter table audit_log enable trigger audit_log_append_only');
  });
});

describe('canonical JSON (unit)', () => {
  it('orders keys at every depth and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: null }], c: undefined } })).toBe('{"a":{"d":[2,{"y":null,"z":1}]},"b":1}');
  });
});
