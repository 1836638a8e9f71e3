import { createHmac, timingSafeEqual } from 'node:crypto';
import { capabilityToken, capabilityTokenValid } from '../../platform/crypto/index.js';

/**
 * Webhook signatures over the raw body, compared in constant time:
 *  - generic: `X-Infinity-Timestamp: <unix seconds>` and `X-Signature: <hex HMAC-SHA256(secret,
 *    "<timestamp>.<body>")>` (a `sha256=` prefix is accepted), the timestamp within the tolerance;
 *  - GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>` (no timestamp);
 *  - Stripe: `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, with the
 *    timestamp within the tolerance.
 * A verified request also gives a replay key (the signature that matched: it depends only on the
 * secret, the timestamp and the body, so reshuffling the headers does not change it) and how long
 * to remember it: until its timestamp falls out of the tolerance (a replay after that fails the
 * timestamp check), or a day for GitHub, which signs no timestamp. The caller refuses a key it
 * has seen (hooks.ts, webhook-replays.repo.ts).
 */
export type SignatureStyle = 'generic' | 'stripe' | 'github';

export const TIMESTAMP_HEADER = 'x-infinity-timestamp';
/** The trigger's default (trigger.nodes.ts), for stored params that do not spell it out. */
export const DEFAULT_TOLERANCE_SEC = 300;
/** GitHub signs no timestamp: a delivery is remembered this long. */
export const GITHUB_REPLAY_WINDOW_SEC = 24 * 3600;
/** Remembered a little past the tolerance, for clocks a little apart. */
const CLOCK_SLACK_SEC = 60;

export type Verified = { ok: true; replayKeys: string[]; rememberUntilSec: number } | { ok: false; reason: string };

const hmac = (secret: string, data: string) => createHmac('sha256', secret).update(data, 'utf8').digest();

function sameHex(expected: Buffer, givenHex: string): boolean {
  if (!/^[0-9a-f]+$/i.test(givenHex) || givenHex.length !== expected.length * 2) return false;
  return timingSafeEqual(expected, Buffer.from(givenHex, 'hex'));
}

function timestampOk(t: string | undefined, nowSec: number, toleranceSec: number): { ok: true } | { ok: false; reason: string } {
  if (!t || !/^\d{1,12}$/.test(t)) return { ok: false, reason: 'missing or malformed timestamp' };
  // NB: a missing tolerance must not make every timestamp pass (NaN compares false).
  if (!(Math.abs(nowSec - Number(t)) <= toleranceSec)) return { ok: false, reason: 'timestamp outside the tolerance' };
  return { ok: true };
}

export function verifySignature(opts: {
  style: SignatureStyle;
  secret: string;
  rawBody: string;
  headers: Record<string, string | string[] | undefined>;
  header?: string;
  toleranceSec: number;
  nowSec: number;
}): Verified {
  const h = (name: string) => {
    const v = opts.headers[name.toLowerCase()];
    return Array.isArray(v) ? v[0] : v;
  };
  switch (opts.style) {
    case 'generic': {
      const name = opts.header ?? 'x-signature';
      const given = h(name);
      if (!given) return { ok: false, reason: `missing ${name} header` };
      const t = h(TIMESTAMP_HEADER);
      if (!t) return { ok: false, reason: `missing ${TIMESTAMP_HEADER} header (the signed string is "<timestamp>.<body>")` };
      const fresh = timestampOk(t, opts.nowSec, opts.toleranceSec);
      if (!fresh.ok) return fresh;
      const expected = hmac(opts.secret, `${t}.${opts.rawBody}`);
      if (!sameHex(expected, given.replace(/^sha256=/, ''))) return { ok: false, reason: 'signature does not match' };
      return { ok: true, replayKeys: [`generic:${expected.toString('hex')}`], rememberUntilSec: Number(t) + opts.toleranceSec + CLOCK_SLACK_SEC };
    }
    case 'github': {
      const given = h('x-hub-signature-256');
      if (!given?.startsWith('sha256=')) return { ok: false, reason: 'missing X-Hub-Signature-256 header' };
      const expected = hmac(opts.secret, opts.rawBody);
      if (!sameHex(expected, given.slice(7))) return { ok: false, reason: 'signature does not match' };
      // The delivery id is not signed (a replay could change it): the signature is the key that
      // holds; the id also catches a redelivery of the same event.
      const delivery = h('x-github-delivery');
      const keys = [`github:${expected.toString('hex')}`, ...(delivery ? [`github-delivery:${delivery.slice(0, 200)}`] : [])];
      return { ok: true, replayKeys: keys, rememberUntilSec: opts.nowSec + GITHUB_REPLAY_WINDOW_SEC };
    }
    case 'stripe': {
      const given = h('stripe-signature');
      if (!given) return { ok: false, reason: 'missing Stripe-Signature header' };
      const parts = given.split(',').map((p) => p.split('=', 2) as [string, string | undefined]);
      const t = parts.find(([k]) => k === 't')?.[1];
      const v1s = parts.filter(([k]) => k === 'v1').map(([, v]) => v ?? '');
      if (!t || !/^\d+$/.test(t) || v1s.length === 0) return { ok: false, reason: 'malformed Stripe-Signature header' };
      const fresh = timestampOk(t, opts.nowSec, opts.toleranceSec);
      if (!fresh.ok) return fresh;
      const expected = hmac(opts.secret, `${t}.${opts.rawBody}`);
      if (!v1s.some((v) => sameHex(expected, v))) return { ok: false, reason: 'signature does not match' };
      return { ok: true, replayKeys: [`stripe:${expected.toString('hex')}`], rememberUntilSec: Number(t) + opts.toleranceSec + CLOCK_SLACK_SEC };
    }
    default: {
      const never: never = opts.style;
      return never;
    }
  }
}

/** The token in an execution's resume URL: only this server (holding the secret) can make it. */
export const resumeToken = (secret: Uint8Array, executionId: string): string => capabilityToken(secret, 'resume', executionId);
export const resumeTokenValid = (secret: Uint8Array, executionId: string, given: string): boolean => capabilityTokenValid(secret, 'resume', executionId, given);
