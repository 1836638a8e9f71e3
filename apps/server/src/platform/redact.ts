/**
 * Masks known secret values in text and in JSON-like data, in the spellings a value takes on its
 * way through HTTP: as is, base64 (Basic auth) and base64url, URL-encoded (query strings, forms)
 * and JSON-escaped. One helper for every path that stores or returns what touched a secret
 * (execution records, AI provider errors).
 *
 * Base64 of a value inside a longer string (`Basic base64("user:" + value)`) shifts the value
 * across 3-byte groups: for each of the three alignments, the characters that depend on the value
 * alone are masked (a character or two at each edge may stay: never enough to use the value).
 */

export const REDACTED = '[redacted]';

/** Shorter pieces are not masked on their own (they would mask ordinary text); the whole value always is. */
const MIN_PIECE = 6;

function base64Pieces(bytes: Buffer): string[] {
  const out: string[] = [];
  for (const alphabet of ['base64', 'base64url'] as const) {
    out.push(bytes.toString(alphabet), bytes.toString(alphabet).replace(/=+$/, ''));
    for (let shift = 0; shift < 3; shift++) {
      // `shift` bytes before the value: the groups that hold value bytes only are stable.
      const skip = shift === 0 ? 0 : 3 - shift;
      const whole = Math.floor((bytes.length - skip) / 3) * 3;
      if (whole <= 0) continue;
      const piece = bytes.subarray(skip, skip + whole).toString(alphabet);
      if (piece.length >= MIN_PIECE) out.push(piece);
    }
  }
  return out;
}

/** The spellings of a secret value to look for, longest first. */
export function secretForms(value: string): string[] {
  if (!value) return [];
  const forms = new Set<string>([value]);
  forms.add(encodeURIComponent(value));
  forms.add(new URLSearchParams({ v: value }).toString().slice(2));
  forms.add(JSON.stringify(value).slice(1, -1));
  for (const b of base64Pieces(Buffer.from(value, 'utf8'))) forms.add(b);
  // "user:password" stored for Basic auth: the password alone is a secret too.
  const colon = value.indexOf(':');
  if (colon > 0 && value.length - colon - 1 >= MIN_PIECE) for (const f of secretForms(value.slice(colon + 1))) forms.add(f);
  return [...forms].filter(Boolean).sort((a, b) => b.length - a.length);
}

const isPlainObject = (v: object): v is Record<string, unknown> => {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
};

/** Collects secret values; masks them wherever they appear. Empty: every method is the identity. */
export class Redactor {
  private forms: string[] = [];
  private readonly values = new Set<string>();

  constructor(values: Iterable<string> = []) {
    for (const v of values) this.add(v);
  }

  add(value: string): void {
    if (!value || this.values.has(value)) return;
    this.values.add(value);
    this.forms = [...new Set([...this.forms, ...secretForms(value)])].sort((a, b) => b.length - a.length);
  }

  get empty(): boolean {
    return this.forms.length === 0;
  }

  /** Whether a text carries one of the values in any spelling. */
  found(text: string): boolean {
    return this.forms.some((f) => text.includes(f));
  }

  text(s: string): string {
    let out = s;
    for (const f of this.forms) if (out.includes(f)) out = out.split(f).join(REDACTED);
    return out;
  }

  /** A copy of JSON-like data with the values masked in strings and keys; other objects (dates, bytes) are kept. */
  deep<T>(value: T): T {
    if (this.empty) return value;
    return this.walk(value, 0) as T;
  }

  private walk(v: unknown, depth: number): unknown {
    if (typeof v === 'string') return this.text(v);
    if (v === null || typeof v !== 'object') return v;
    if (depth > 100) return this.found(JSON.stringify(v) ?? '') ? REDACTED : v;
    if (Array.isArray(v)) return v.map((x) => this.walk(x, depth + 1));
    if (!isPlainObject(v)) return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[this.text(k)] = this.walk(x, depth + 1);
    return out;
  }
}
