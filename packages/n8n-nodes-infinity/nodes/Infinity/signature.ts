import { createHmac, timingSafeEqual } from 'node:crypto';

/** How far a delivery's `webhook-timestamp` may be from now (Standard Webhooks suggests 5 minutes). */
export const TOLERANCE_SECONDS = 5 * 60;

export type Verdict = { ok: true } | { ok: false; reason: string };

export interface SignedHeaders {
  id?: string;
  timestamp?: string;
  signature?: string;
}

/**
 * Checks a Standard Webhooks signature with node:crypto alone (community nodes carry no runtime
 * dependency): `webhook-signature` holds space-separated `v1,<base64 HMAC-SHA256>` of
 * `id.timestamp.body` under the base64 secret after `whsec_`; compared in constant time.
 */
export function verifySignature(secret: string, headers: SignedHeaders, body: string | Buffer, nowMs = Date.now()): Verdict {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature) return { ok: false, reason: 'missing webhook-id, webhook-timestamp or webhook-signature' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'webhook-timestamp is not a Unix time in seconds' };
  const skew = Math.abs(nowMs / 1000 - Number(timestamp));
  if (skew > TOLERANCE_SECONDS) return { ok: false, reason: 'webhook-timestamp is outside the 5-minute tolerance' };
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  const expected = createHmac('sha256', key)
    .update(`${id}.${timestamp}.`)
    .update(typeof body === 'string' ? Buffer.from(body, 'utf8') : body)
    .digest();
  for (const part of signature.split(' ')) {
    const [version, value] = part.split(',');
    if (version !== 'v1' || !value) continue;
    const given = Buffer.from(value, 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return { ok: true };
  }
  return { ok: false, reason: 'no v1 signature matches' };
}

/**
 * The `webhook-id`s seen recently, so a replayed delivery (same id, within the timestamp
 * tolerance) is not run twice. Bounded: ids older than the tolerance are forgotten (their
 * timestamp is refused by then anyway), and at most `max` are kept.
 */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();

  constructor(private readonly max = 10_000) {}

  /** True the first time an id is offered; false for a replay. */
  firstSeen(id: string, nowMs = Date.now()): boolean {
    const horizon = nowMs - TOLERANCE_SECONDS * 1000 * 2;
    for (const [k, at] of this.seen) {
      if (at >= horizon && this.seen.size < this.max) break;
      this.seen.delete(k);
    }
    if (this.seen.has(id)) return false;
    this.seen.set(id, nowMs);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }
}
