import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import '../app.js';
import { errorCatalogue } from './errors.js';

describe('error catalogue', () => {
  it('docs/errors.md lists every code with its status', () => {
    const doc = readFileSync(path.resolve(import.meta.dirname, '../../../../docs/errors.md'), 'utf8');
    const missing = [...errorCatalogue()].filter(([code, spec]) => !new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${spec.status}\\s*\\|`).test(doc)).map(([c]) => c);
    expect(missing).toEqual([]);
  });

  it('codes are SCREAMING_SNAKE_CASE', () => {
    for (const code of errorCatalogue().keys()) expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
  });
});
