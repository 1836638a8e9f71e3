import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { addMember, createApiKey, signUp } from '../../platform/testing/actors.js';
import { describeEachDb } from '../../platform/testing/harness.js';
import { revealSecret } from '../vault/index.js';
import { backupInstance } from './admin.js';
import { verifyAuditChain } from '../audit/index.js';

describeEachDb('audit: every module’s changes and sensitive reads, exportable', (h) => {
  it('records model, flow, agent, secret, key and backup events, and exports them as CSV and JSON', async () => {
    const owner = await signUp(h());
    const key = (await createApiKey(h(), owner.token, 'admin')).key;
    const req = (method: string, url: string, body?: unknown) => h().request({ method, url, apiKey: key, body });
    expect((await req('POST', '/api/v1/models', { name: 'notes', fields: [{ name: 'text', type: 'string' }] })).statusCode).toBe(201);
    expect((await req('PATCH', '/api/v1/models/notes', { addFields: [{ name: 'done', type: 'boolean' }] })).statusCode).toBe(200);
    expect((await req('DELETE', '/api/v1/models/notes')).statusCode).toBe(204);
    const flow = (await req('POST', '/api/v1/flows?template=blank', { name: 'F' })).json().data;
    expect((await req('PATCH', `/api/v1/flows/${flow.id as string}`, { name: 'F2' })).statusCode).toBe(200);
    expect((await req('POST', `/api/v1/flows/${flow.id as string}/publish`, { slug: `audit-${Date.now()}` })).statusCode).toBe(200);
    expect((await req('DELETE', `/api/v1/flows/${flow.id as string}`)).statusCode).toBe(204);
    const secret = (await req('POST', '/api/v1/secrets', { name: 'k', provider: 'openai', value: 'sk-audit-0000' })).json().data.id as string;
    expect((await req('POST', '/api/v1/agents', { name: 'A', provider: 'openai', model: 'gpt-4o-mini', secretId: secret })).statusCode).toBe(201);
    await revealSecret(h().built.vault, { kind: 'flow', flowId: flow.id, executionId: flow.id, orgId: owner.orgId, role: 'editor' }, secret, 'audit test');
    await backupInstance(
      { config: h().config, db: h().db.kysely, vault: h().built.vault, database: h().db },
      { out: path.join(mkdtempSync(path.join(os.tmpdir(), 'audit-')), 'org.backup'), orgId: owner.orgId },
    );

    const csv = await req('GET', '/api/v1/audit/export?format=csv');
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers['content-disposition']).toMatch(/attachment; filename="audit-\d{4}-\d{2}-\d{2}\.csv"/);
    const lines = csv.body.trim().split('\n');
    expect(lines[0]).toBe('seq,at,action,actor_type,actor_id,target_type,target_id,ip,details,hash');
    const actions = lines.slice(1).map((l) => l.split(',')[2]);
    for (const a of [
      'AUTH_SIGNUP',
      'API_KEY_CREATE',
      'MODEL_CREATE',
      'MODEL_UPDATE',
      'MODEL_DELETE',
      'FLOW_CREATE',
      'FLOW_UPDATE',
      'FLOW_PUBLISH',
      'DELETE_WORKFLOW',
      'SECRET_CREATE',
      'AGENT_CREATE',
      'AGENT_DEPLOY',
      'SECRET_USE',
      'BACKUP_CREATE',
    ])
      expect(actions, a).toContain(a);
    // Oldest first, numbered without gaps.
    const seqs = lines.slice(1).map((l) => Number(l.split(',')[0]));
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(csv.body).not.toContain('sk-audit-0000');

    const json = await req('GET', '/api/v1/audit/export?format=json&action=MODEL_CREATE,MODEL_DELETE');
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    expect(json.json().map((e: { action: string }) => e.action)).toEqual(['MODEL_CREATE', 'MODEL_DELETE']);
    // Exporting is itself a sensitive read, on the record; the chain still verifies.
    const exports = (await req('GET', '/api/v1/audit?action=AUDIT_EXPORT')).json().data;
    expect(exports).toHaveLength(2);
    expect(exports[0].details).toMatchObject({ format: 'json', count: 2 });
    expect((await verifyAuditChain(h().db.kysely, owner.orgId)).ok).toBe(true);

    // Viewers may not read or export the audit log.
    const viewer = await signUp(h(), 'Viewer');
    const viewerToken = await addMember(h(), owner, viewer, 'viewer');
    expect((await h().request({ method: 'GET', url: '/api/v1/audit/export', token: viewerToken })).statusCode).toBe(403);
    expect((await req('GET', '/api/v1/audit/export?format=xml')).statusCode).toBe(400);
  });
});
