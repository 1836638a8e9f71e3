import { createHmac, timingSafeEqual } from 'node:crypto';
import { capabilityToken, capabilityTokenValid } from '../../platform/crypto/index.js';

/**
 * Webhook signatures over the raw body, compared in constant time:
 *  - generic: `X-Signature: <hex HMAC-SHA256(secret, body)>` (a `sha256=` prefix is accepted);
 *  - GitHub: `X-Hub-Signature-256: sha256=<hex>`;
 *  - Stripe: `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, with the
 *    timestamp no older than the tolerance (replays of old deliveries are refused).
 */
export type SignatureStyle = 'generic' | 'stripe' | 'github';

const hmac = (secret: string, data: string) => createHmac('sha256', secret).update(data, 'utf8').digest();

function sameHex(expected: Buffer, givenHex: string): boolean {
  if (!/^[0-9a-f]+$/i.test(givenHex) || givenHex.length !== expected.length * 2) return false;
  return timingSafeEqual(expected, Buffer.from(givenHex, 'hex'));
}

export function verifySignature(opts: { style: SignatureStyle; secret: string; rawBody: string; headers: Record<string, string | string[] | undefined>; header?: string; toleranceSec: number; nowSec: number }): { ok: true } | { ok: false; reason: string } {
  const h = (name: string) => {
    const v = opts.headers[name.toLowerCase()];
    return Array.isArray(v) ? v[0] : v;
  };
  switch (opts.style) {
    case 'generic': {
      const name = opts.header ?? 'x-signature';
      const given = h(name);
      if (!given) return { ok: false, reason: `missing ${name} header` };
      return sameHex(hmac(opts.secret, opts.rawBody), given.replace(/^sha256=/, '')) ? { ok: true } : { ok: false, reason: 'signature does not match' };
    }
    case 'github': {
      const given = h('x-hub-signature-256');
      if (!given?.startsWith('sha256=')) return { ok: false, reason: 'missing X-Hub-Signature-256 header' };
      return sameHex(hmac(opts.secret, opts.rawBody), given.slice(7)) ? { ok: true } : { ok: false, reason: 'signature does not match' };
    }
    case 'stripe': {
      const given = h('stripe-signature');
      if (!given) return { ok: false, reason: 'missing Stripe-Signature header' };
      const parts = given.split(',').map((p) => p.split('=', 2) as [string, string | undefined]);
      const t = parts.find(([k]) => k === 't')?.[1];
      const v1s = parts.filter(([k]) => k === 'v1').map(([, v]) => v ?? '');
      if (!t || !/^\d+$/.test(t) || v1s.length === 0) return { ok: false, reason: 'malformed Stripe-Signature header' };
      if (Math.abs(opts.nowSec - Number(t)) > opts.toleranceSec) return { ok: false, reason: 'timestamp outside the tolerance' };
      const expected = hmac(opts.secret, `${t}.${opts.rawBody}`);
      return v1s.some((v) => sameHex(expected, v)) ? { ok: true } : { ok: false, reason: 'signature does not match' };
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
