/**
 * The trigger's Standard Webhooks check (node:crypto only) against the reference signer of the
 * `standardwebhooks` package, and the bounded replay guard.
 */
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { ReplayGuard, TOLERANCE_SECONDS, verifySignature } from '../nodes/Infinity/signature';

const secret = `whsec_${randomBytes(24).toString('base64')}`;
const body = JSON.stringify({ id: 'evt_1', type: 'record.created', timestamp: '2026-01-01T00:00:00.000Z', data: { record: { id: 'r1', name: 'Zoë ✓' } } });

function signed(at: Date, id = 'msg_1', payload = body, key = secret) {
  return { id, timestamp: String(Math.floor(at.getTime() / 1000)), signature: new Webhook(key).sign(id, at, payload) };
}

describe('Standard Webhooks verification without dependencies', () => {
  const now = new Date();

  it('accepts what the reference signer signs, as text or bytes', () => {
    expect(verifySignature(secret, signed(now), body)).toEqual({ ok: true });
    expect(verifySignature(secret, signed(now), Buffer.from(body, 'utf8'))).toEqual({ ok: true });
    // The reference verifier agrees with the same headers.
    const h = signed(now);
    expect(() => new Webhook(secret).verify(body, { 'webhook-id': h.id, 'webhook-timestamp': h.timestamp, 'webhook-signature': h.signature })).not.toThrow();
  });

  it('accepts any matching v1 signature among several (secret rotation)', () => {
    const other = `whsec_${randomBytes(24).toString('base64')}`;
    const h = signed(now);
    const rotated = `${signed(now, 'msg_1', body, other).signature} v2,ignored ${h.signature}`;
    expect(verifySignature(secret, { ...h, signature: rotated }, body)).toEqual({ ok: true });
  });

  it('refuses a changed body, another secret, another id, and a signature that is not v1', () => {
    const h = signed(now);
    expect(verifySignature(secret, h, body.replace('Zoë', 'Zoe')).ok).toBe(false);
    expect(verifySignature(`whsec_${randomBytes(24).toString('base64')}`, h, body).ok).toBe(false);
    expect(verifySignature(secret, { ...h, id: 'msg_2' }, body).ok).toBe(false);
    expect(verifySignature(secret, { ...h, signature: h.signature.replace('v1,', 'v2,') }, body).ok).toBe(false);
    expect(verifySignature(secret, { ...h, signature: 'v1,' }, body).ok).toBe(false);
    expect(verifySignature(secret, { ...h, signature: 'v1,AAAA' }, body).ok).toBe(false);
  });

  it('refuses timestamps outside five minutes either way, and missing or malformed headers', () => {
    const old = new Date(now.getTime() - (TOLERANCE_SECONDS + 5) * 1000);
    const future = new Date(now.getTime() + (TOLERANCE_SECONDS + 5) * 1000);
    expect(verifySignature(secret, signed(old), body, now.getTime())).toEqual({ ok: false, reason: 'webhook-timestamp is outside the 5-minute tolerance' });
    expect(verifySignature(secret, signed(future), body, now.getTime()).ok).toBe(false);
    const edge = new Date(now.getTime() - (TOLERANCE_SECONDS - 5) * 1000);
    expect(verifySignature(secret, signed(edge), body, now.getTime()).ok).toBe(true);
    const h = signed(now);
    expect(verifySignature(secret, { ...h, id: undefined }, body).ok).toBe(false);
    expect(verifySignature(secret, { ...h, signature: undefined }, body).ok).toBe(false);
    expect(verifySignature(secret, { ...h, timestamp: '12abc' }, body).ok).toBe(false);
  });
});

describe('replay guard', () => {
  it('refuses an id seen before, forgets ids past twice the tolerance, and stays within its bound', () => {
    const g = new ReplayGuard(3);
    const t0 = 1_000_000_000_000;
    expect(g.firstSeen('a', t0)).toBe(true);
    expect(g.firstSeen('a', t0 + 1)).toBe(false);
    expect(g.firstSeen('b', t0 + 2)).toBe(true);
    expect(g.firstSeen('c', t0 + 3)).toBe(true);
    expect(g.firstSeen('d', t0 + 4)).toBe(true); // the oldest ("a") gives way
    expect(g.size).toBeLessThanOrEqual(3);
    expect(g.firstSeen('d', t0 + 5)).toBe(false);
    // Much later every id has expired (its timestamp would be refused by then anyway).
    const later = t0 + TOLERANCE_SECONDS * 1000 * 2 + 10;
    expect(g.firstSeen('e', later)).toBe(true);
    expect(g.size).toBe(1);
  });
});
