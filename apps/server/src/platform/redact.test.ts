import { describe, expect, it } from 'vitest';
import { REDACTED, Redactor } from './redact.js';

const SECRET = 'sk-live_Zq8+/w=x y&z"9f2c';
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('Redactor', () => {
  const r = new Redactor([SECRET]);

  it('masks the value as is, base64, base64url, URL-encoded, form-encoded and JSON-escaped', () => {
    for (const spelled of [
      SECRET,
      b64(SECRET),
      Buffer.from(SECRET).toString('base64url'),
      encodeURIComponent(SECRET),
      new URLSearchParams({ k: SECRET }).toString().slice(2),
      JSON.stringify(SECRET).slice(1, -1),
    ]) {
      const out = r.text(`before ${spelled} after`);
      expect(out, spelled).toBe(`before ${REDACTED} after`);
    }
  });

  it('masks base64 of the value inside a longer string at every alignment (Basic auth of user:value)', () => {
    for (const user of ['', 'a', 'ab', 'abc', 'user']) {
      const header = `Basic ${b64(`${user}:${SECRET}`)}`;
      const out = r.text(header);
      expect(out, user).toContain(REDACTED);
      // What is left cannot give the value back.
      const left = Buffer.from(out.slice(6).split(REDACTED).join(''), 'base64').toString('latin1');
      expect(left).not.toContain(SECRET.slice(4, 12));
    }
  });

  it('masks the password of a user:password value on its own', () => {
    const basic = new Redactor(['alice:correct-horse-battery']);
    expect(basic.text('pw=correct-horse-battery')).toBe(`pw=${REDACTED}`);
    expect(basic.text(b64('correct-horse-battery'))).not.toContain(b64('correct-horse-battery').slice(0, 12));
  });

  it('walks JSON-like data (strings and keys), keeps dates, and copies rather than changes', () => {
    const at = new Date(0);
    const data = { headers: { authorization: `Bearer ${SECRET}`, [SECRET]: 1 }, list: [SECRET, 2, null], at };
    const out = r.deep(data);
    expect(JSON.stringify(out)).not.toContain('sk-live');
    expect(out.at).toBe(at);
    expect(out.list).toEqual([REDACTED, 2, null]);
    expect(data.list[0]).toBe(SECRET);
  });

  it('is the identity with no values, and says whether a text carries one', () => {
    const none = new Redactor();
    const data = { a: SECRET };
    expect(none.deep(data)).toBe(data);
    expect(r.found(`x ${encodeURIComponent(SECRET)}`)).toBe(true);
    expect(r.found('nothing here')).toBe(false);
  });
});
