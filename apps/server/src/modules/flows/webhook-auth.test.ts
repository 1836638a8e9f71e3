import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifySignature } from './webhook-auth.js';

const secret = 'whsec_test';
const body = '{"id":"evt_1","amount":42}';
const hex = (data: string) => createHmac('sha256', secret).update(data).digest('hex');
const now = 1_800_000_000;
const check = (style: 'generic' | 'stripe' | 'github', headers: Record<string, string>, raw = body) =>
  verifySignature({ style, secret, rawBody: raw, headers, toleranceSec: 300, nowSec: now });

describe('webhook signatures', () => {
  it('generic: HMAC-SHA256 of "<timestamp>.<body>", hex, with or without sha256=, the timestamp within the tolerance', () => {
    const signedAt = (t: number, raw = body) => ({ 'x-infinity-timestamp': String(t), 'x-signature': hex(`${t}.${raw}`) });
    expect(check('generic', signedAt(now)).ok).toBe(true);
    expect(check('generic', { ...signedAt(now), 'x-signature': `sha256=${hex(`${now}.${body}`)}` }).ok).toBe(true);
    expect(check('generic', signedAt(now), `${body} `).ok).toBe(false);
    expect(check('generic', {})).toEqual({ ok: false, reason: 'missing x-signature header' });
    expect(check('generic', { 'x-infinity-timestamp': String(now), 'x-signature': 'zz' }).ok).toBe(false);
    // The timestamp is part of the signed string: changing it breaks the signature.
    expect(check('generic', { ...signedAt(now), 'x-infinity-timestamp': String(now + 1) })).toEqual({ ok: false, reason: 'signature does not match' });
    expect(check('generic', signedAt(now - 301))).toEqual({ ok: false, reason: 'timestamp outside the tolerance' });
    expect(check('generic', { ...signedAt(now), 'x-infinity-timestamp': '1800000000000' })).toEqual({ ok: false, reason: 'missing or malformed timestamp' });
  });

  it('regression: a bare HMAC of the body (no timestamp), which could be replayed forever, is refused', () => {
    expect(check('generic', { 'x-signature': hex(body) })).toEqual({
      ok: false,
      reason: 'missing x-infinity-timestamp header (the signed string is "<timestamp>.<body>")',
    });
  });

  it('replay keys: the signature that matched, the same however the header is dressed, remembered while the timestamp is valid', () => {
    const t = now - 10;
    const a = check('stripe', { 'stripe-signature': `t=${t},v1=${hex(`${t}.${body}`)}` });
    const b = check('stripe', { 'stripe-signature': `v1=deadbeef,t=${t},v1=${hex(`${t}.${body}`)}` });
    expect(a).toEqual({ ok: true, replayKeys: [`stripe:${hex(`${t}.${body}`)}`], rememberUntilSec: t + 300 + 60 });
    expect(b).toEqual(a);
    const g = check('generic', { 'x-infinity-timestamp': String(t), 'x-signature': hex(`${t}.${body}`) });
    expect(g).toEqual({ ok: true, replayKeys: [`generic:${hex(`${t}.${body}`)}`], rememberUntilSec: t + 360 });
    const gh = check('github', { 'x-hub-signature-256': `sha256=${hex(body)}`, 'x-github-delivery': 'd-1' });
    expect(gh).toEqual({ ok: true, replayKeys: [`github:${hex(body)}`, 'github-delivery:d-1'], rememberUntilSec: now + 24 * 3600 });
  });

  it('GitHub style', () => {
    expect(check('github', { 'x-hub-signature-256': `sha256=${hex(body)}` }).ok).toBe(true);
    expect(check('github', { 'x-hub-signature-256': hex(body) }).ok).toBe(false);
  });

  it('Stripe style with timestamp tolerance and several v1 signatures', () => {
    const sig = (t: number) => hex(`${t}.${body}`);
    expect(check('stripe', { 'stripe-signature': `t=${now},v1=${sig(now)}` }).ok).toBe(true);
    expect(check('stripe', { 'stripe-signature': `t=${now},v1=deadbeef,v1=${sig(now)}` }).ok).toBe(true);
    expect(check('stripe', { 'stripe-signature': `t=${now - 301},v1=${sig(now - 301)}` })).toEqual({ ok: false, reason: 'timestamp outside the tolerance' });
    expect(check('stripe', { 'stripe-signature': `t=${now},v1=${sig(now + 1)}` }).ok).toBe(false);
    expect(check('stripe', { 'stripe-signature': 'garbage' }).ok).toBe(false);
  });
});
