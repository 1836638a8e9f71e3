import { describe, expect, it } from 'vitest';
import { type KeyType, decodeKeyset, encodeKeyset, keyValueValid } from './keyset.js';

describe('keyset cursor values', () => {
  it('accepts what PostgreSQL writes and refuses what its casts would reject', () => {
    const table: [KeyType, unknown, boolean][] = [
      ['timestamptz', '2026-12-07T15:18:08.123456+00:00', true],
      ['timestamptz', '2026-12-07T15:18:08.123Z', true],
      ['timestamptz', '2026-12-07T15:18:08+05:30', true],
      ['timestamptz', 'infinity', true],
      ['timestamptz', 'garbage', false],
      ['timestamptz', '2024-02-30T00:00:00Z', false],
      ['timestamptz', '2024-02-29T00:00:00Z', true],
      ['timestamptz', '2023-02-29T00:00:00Z', false],
      ['timestamptz', '2024-01-01T24:00:00Z', false],
      ['timestamptz', '2024-01-01T00:00:00+16:00', false],
      ['timestamptz', 1700000000000, false],
      ['date', '2024-01-31', true],
      ['date', '2024-04-31', false],
      ['uuid', '0190a9a0-0000-7000-8000-000000000000', true],
      ['uuid', 'garbage', false],
      ['bigint', '-9223372036854775808', true],
      ['bigint', '9223372036854775808', false],
      ['bigint', '1.5', false],
      ['double precision', '0.3333333333333333', true],
      ['double precision', '1e308', true],
      ['double precision', '1e400', false],
      ['double precision', '1e-400', false],
      ['double precision', '0e-400', true],
      ['double precision', 'NaN', true],
      ['double precision', '0x10', false],
      ['double precision', 5, false],
      ['boolean', 'true', true],
      ['boolean', 'yes', false],
      ['text', 'anything at all', true],
      ['text', 'nul\u0000', false],
      ['text', { a: 1 }, false],
      ['text', null, false],
    ];
    for (const [type, v, ok] of table) expect(keyValueValid(type, v), `${type} ${JSON.stringify(v)}`).toBe(ok);
  });

  it('round-trips, and refuses a cursor of another list or shape', () => {
    const c = encodeKeyset('flows', ['2026-12-07T15:18:08.123456+00:00', '0190a9a0-0000-7000-8000-000000000000']);
    const types = [{ type: 'timestamptz' as const }, { type: 'uuid' as const }];
    expect(decodeKeyset('flows', c, types)).toEqual(['2026-12-07T15:18:08.123456+00:00', '0190a9a0-0000-7000-8000-000000000000']);
    expect(decodeKeyset('executions', c, types)).toBeUndefined();
    expect(decodeKeyset('flows', c, [{ type: 'timestamptz' }])).toBeUndefined();
    expect(decodeKeyset('flows', 'bogus', types)).toBeUndefined();
    expect(decodeKeyset('flows', Buffer.from('null').toString('base64url'), types)).toBeUndefined();
    expect(decodeKeyset('x', encodeKeyset('x', [null]), [{ type: 'text', nullable: true }])).toEqual([null]);
    expect(decodeKeyset('x', encodeKeyset('x', [null]), [{ type: 'text' }])).toBeUndefined();
  });
});
