import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { codesRaisedByTheServer, documentedCodes, raisedCodes } from './error-codes.js';

const root = path.resolve(import.meta.dirname, '../..');
const documented = documentedCodes(readFileSync(path.join(root, 'docs/errors.md'), 'utf8'));
const raised = codesRaisedByTheServer(root);

describe('docs/errors.md and the codes the server raises', () => {
  it('lists every code raised anywhere in the server: HTTP errors, node errors and execution failures', () => {
    const missing = raised.filter((r) => !documented.has(r.code)).map((r) => `${r.code} (${r.at})`);
    expect(missing).toEqual([]);
  });

  it('lists no code that nothing raises any more', () => {
    const codes = new Set(raised.map((r) => r.code));
    expect([...documented].filter((c) => !codes.has(c))).toEqual([]);
  });

  it('finds a code in every form the server raises one (so a missing code cannot slip by)', () => {
    const planted = `
      const errors = defineErrors({ PLANTED_HTTP: { status: 418, description: 'x' } });
      throw new NodeError('no', { code: cond ? 'PLANTED_NODE_A' : 'PLANTED_NODE_B', retryable: false });
      throw new AppError('PLANTED_APP', 500, 'x');
      return { ok: false, error: { nodeId: null, code: e?.code ?? 'PLANTED_FAILURE', message: 'x' } };
      const issue = { field: 'f', code: 'required', message: 'lower-case field issue codes are not catalogue codes' };
      if (err.code === 'PLANTED_COMPARISON') return; // a comparison raises nothing
    `;
    expect(raisedCodes('planted.ts', planted).map((r) => r.code)).toEqual([
      'PLANTED_HTTP',
      'PLANTED_NODE_A',
      'PLANTED_NODE_B',
      'PLANTED_APP',
      'PLANTED_FAILURE',
    ]);
  });

  it('sees the node and engine codes, not only the HTTP catalogue', () => {
    const codes = new Set(raised.map((r) => r.code));
    for (const c of ['NODE_FAILED', 'NODE_TIMEOUT', 'HTTP_STATUS', 'LOOP_ITEM_FAILED', 'EXECUTION_TIMEOUT', 'SUBFLOW_TOO_DEEP', 'VAULT_SECRET_NOT_FOUND'])
      expect(codes).toContain(c);
  });
});
