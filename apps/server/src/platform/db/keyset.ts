import { type RawBuilder, sql } from 'kysely';

/**
 * Keyset (cursor) paging helpers. A cursor carries the sort values of the last row of a page in
 * PostgreSQL's own text form, and the next page compares each column with that text cast back to
 * the column's type. NB: never carry a value through a JavaScript Date or number: a Date keeps
 * milliseconds while timestamptz keeps microseconds (rows of one bulk insert share a created_at to
 * the microsecond, and a millisecond cursor lands before or after the whole group: pages repeat or
 * stop), and a bigint may not fit a double.
 */
export type KeyType = 'text' | 'bigint' | 'double precision' | 'boolean' | 'date' | 'timestamptz' | 'uuid';

/**
 * A value as exact text, whatever DateStyle or extra_float_digits say: to_json writes timestamps
 * in ISO 8601 with microseconds and doubles in their shortest exact form. Null stays null.
 */
export const keyText = (expr: RawBuilder<unknown>): RawBuilder<string | null> => sql<string | null>`(to_json(${expr}) #>> '{}')`;

/** A cursor value bound as a parameter and cast to its column's type. */
export const keyValue = (type: KeyType, v: string): RawBuilder<unknown> => sql`${v}::${sql.raw(type)}`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE = /^(\d{4,6})-(\d{2})-(\d{2})( BC)?$/;
const TIMESTAMP = /^(\d{4,6})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(Z|[+-](\d{2})(:?\d{2}(:\d{2})?)?)( BC)?$/;
const NUMBER = /^-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,5})?$/;
const BIGINT_MIN = -(2n ** 63n);
const BIGINT_MAX = 2n ** 63n - 1n;

function dayExists(y: number, m: number, d: number): boolean {
  if (y < 1 || m < 1 || m > 12 || d < 1) return false;
  const days = [31, (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!;
  return d <= days;
}

/**
 * Whether PostgreSQL will read `v` as a value of `type` without an error: a cursor comes from the
 * client, and a value the cast refuses would be a 500. Accepts what keyText writes (and the
 * millisecond "…Z" form of older cursors); anything else is refused.
 */
export function keyValueValid(type: KeyType, v: unknown): v is string {
  if (typeof v !== 'string' || v.length > 10_000 || v.includes('\u0000')) return false;
  switch (type) {
    case 'text':
      return true;
    case 'uuid':
      return UUID.test(v);
    case 'boolean':
      return v === 'true' || v === 'false';
    case 'bigint': {
      if (!/^-?\d{1,19}$/.test(v)) return false;
      const n = BigInt(v);
      return n >= BIGINT_MIN && n <= BIGINT_MAX;
    }
    case 'double precision': {
      if (v === 'NaN' || v === 'Infinity' || v === '-Infinity') return true;
      if (!NUMBER.test(v)) return false;
      const n = Number(v);
      // PostgreSQL refuses what overflows to infinity or underflows to zero.
      return Number.isFinite(n) && (n !== 0 || !/[1-9]/.test(v.replace(/[eE].*$/, '')));
    }
    case 'date': {
      if (v === 'infinity' || v === '-infinity') return true;
      const m = DATE.exec(v);
      return !!m && dayExists(Number(m[1]), Number(m[2]), Number(m[3]));
    }
    case 'timestamptz': {
      if (v === 'infinity' || v === '-infinity') return true;
      const m = TIMESTAMP.exec(v);
      if (!m || !dayExists(Number(m[1]), Number(m[2]), Number(m[3]))) return false;
      return Number(m[4]) < 24 && Number(m[5]) < 60 && Number(m[6]) < 60 && (m[9] === undefined || Number(m[9]) <= 15);
    }
    default: {
      const never: never = type;
      return never;
    }
  }
}

/** The opaque form of a cursor: base64url of JSON `{ s: <what it pages>, v: [values] }`. */
export function encodeKeyset(s: string, values: (string | null)[]): string {
  return Buffer.from(JSON.stringify({ s, v: values })).toString('base64url');
}

/**
 * The values of a cursor issued by encodeKeyset for `s`, each checked against its column's type
 * (`nullable` columns may hold null); undefined when the cursor is not one this API issued for it.
 */
export function decodeKeyset(s: string, raw: string, types: { type: KeyType; nullable?: boolean }[]): (string | null)[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { s: spec, v } = parsed as { s?: unknown; v?: unknown };
  if (spec !== s || !Array.isArray(v) || v.length !== types.length) return undefined;
  const values = v as unknown[];
  for (let i = 0; i < types.length; i++) {
    const x = values[i];
    if (x === null && types[i]!.nullable) continue;
    if (!keyValueValid(types[i]!.type, x)) return undefined;
  }
  return values as (string | null)[];
}
