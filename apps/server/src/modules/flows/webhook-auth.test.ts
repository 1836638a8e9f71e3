import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifySignature } from './webhook-auth.js';

const secret = 'whsec_test';
const body = '{"id":"evt_1","amount":42}';
const hex = (data: string) => createHmac('sha256', secret).update(data).digest('hex');
const now = 1_800_000_000;
const check = (style: 'generic' | 'stripe' | 'github', headers: Record<string, string>, raw = body) => verifySignature({ style, secret, rawBody: raw, headers, toleranceSec: 300, nowSec: now });

describe('webhook signatures', () => {
  it('generic HMAC-SHA256 of the body, hex, with or without sha256=', () => {
    expect(check('generic', { 'x-signature': hex(body) }).ok).toBe(true);
    expect(check('generic', { 'x-signature': `sha256=${hex(body)}` }).ok).toBe(true);
    expect(check('generic', { 'x-signature': hex(body) }, `${body} `).ok).toBe(false);
    expect(check('generic', {})).toEqual({ ok: false, reason: 'missing x-signature header' });
    expect(check('generic', { 'x-signature': 'zz' }).ok).toBe(false);
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
