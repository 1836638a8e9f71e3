import { expect, it } from 'vitest';
import { createApiKey, signUp } from '../../platform/testing/actors.js';
import { describeEachDb } from '../../platform/testing/harness.js';

// Regression: a field pattern ^(a|a)+$ and one value of 26 a's and a ! stalled every request of
// every organization for 2 s, doubling per character. Patterns now run on RE2 (linear time).
describeEachDb('field patterns run in linear time', (h) => {
  let key: string;
  const req = (method: string, url: string, body?: unknown) => h().request({ method, url, apiKey: key, body });

  it("catastrophic pattern ^(a|a)+$: a value of 40 a's and a ! is refused at once, 40 a's are accepted", async () => {
    const u = await signUp(h());
    key = (await createApiKey(h(), u.token, 'editor')).key;
    expect((await req('POST', '/api/v1/models', { name: 'redos', fields: [{ name: 'code', type: 'string', pattern: '^(a|a)+$' }] })).statusCode).toBe(201);
    const bad = await req('POST', '/api/v1/data/redos', { code: `${'a'.repeat(40)}!` });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error.details).toContainEqual(expect.objectContaining({ field: 'code', message: 'must match ^(a|a)+$' }));
    expect((await req('POST', '/api/v1/data/redos', { code: 'a'.repeat(40) })).statusCode).toBe(201);
  });

  it('refuses patterns RE2 cannot run in linear time (backreferences, lookaround) when the field is saved', async () => {
    for (const pattern of ['^(a)\\1$', '^(?=a)a$', '(?<!x)y']) {
      const r = await req('POST', '/api/v1/models', { name: 'lookaround', fields: [{ name: 'code', type: 'string', pattern }] });
      expect(r.statusCode, pattern).toBe(400);
      expect(r.json().error.code).toBe('VALIDATION_FAILED');
      expect(JSON.stringify(r.json().error.details)).toContain('RE2');
    }
  });
});
