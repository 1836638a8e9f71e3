// @ts-check
'use strict';

const { createHmac, timingSafeEqual } = require('node:crypto');

/** Standard Webhooks' default tolerance: a delivery older or newer than this is a replay or a forgery. */
const TOLERANCE_SECONDS = 5 * 60;

/**
 * A header of the raw request Zapier hands a hook's perform. Zapier renames headers: `webhook-id`
 * arrives as `Http-Webhook-Id` (Camel-Case with an `Http-` prefix), so both spellings are looked up,
 * case-insensitively.
 * @param {Record<string, string> | undefined} headers
 * @param {string} name lower-case
 */
function headerOf(headers, name) {
  for (const [k, v] of Object.entries(headers ?? {})) {
    const key = k.toLowerCase();
    if (key === name || key === `http-${name}`) return v;
  }
  return undefined;
}

/**
 * Verifies a delivery's Standard Webhooks signature (https://www.standardwebhooks.com): HMAC-SHA256
 * over `{webhook-id}.{webhook-timestamp}.{body}` with the secret (`whsec_` + base64 key), any of the
 * space-separated `v1,<base64>` signatures matching, and a timestamp within five minutes.
 * Answers the reason it fails, or undefined when the delivery is genuine.
 * @param {{ secret: string, headers: Record<string, string> | undefined, body: string, now?: number }} input
 * @returns {string | undefined}
 */
function signatureProblem({ secret, headers, body, now = Date.now() }) {
  const id = headerOf(headers, 'webhook-id');
  const timestamp = headerOf(headers, 'webhook-timestamp');
  const signatures = headerOf(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures) return 'the delivery carries no webhook-id, webhook-timestamp and webhook-signature headers';
  const seconds = Number(timestamp);
  if (!Number.isInteger(seconds)) return 'the webhook-timestamp header is not a number of seconds';
  if (Math.abs(now / 1000 - seconds) > TOLERANCE_SECONDS) return 'the delivery is more than five minutes old or in the future (a replay?)';
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
  for (const candidate of signatures.split(' ')) {
    const [version, value] = candidate.split(',');
    if (version !== 'v1' || !value) continue;
    const given = Buffer.from(value, 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return undefined;
  }
  return 'no v1 signature matches the body';
}

module.exports = { signatureProblem };
