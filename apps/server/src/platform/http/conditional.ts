import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Expected, etagOf } from '../concurrency.js';
import { commonErrors } from '../errors.js';

// One entity tag of a list: W/"…", "…", or (leniently) a bare token such as 3.
const TAG = /^\s*(?:W\/)?(?:"([\x21\x23-\x7e\x80-\xff]*)"|([\x21\x23-\x2b\x2d-\x7e]+))\s*(?:,|$)/;

/**
 * The versions an `If-Match` header names (RFC 9110 §13.1.1), as opaque tags without quotes:
 * undefined when the header is absent or `*` (the write proceeds unconditionally: our writes need
 * an existing resource anyway). Weak tags (`W/"3"`) count as their strong tag — our tags name exact
 * versions, and a proxy that compresses a response may weaken the tag the client saw. A bare
 * token (`If-Match: 3`) is accepted too; anything else is a 400, before anything changes.
 */
export function ifMatchOf(request: FastifyRequest): Expected {
  const raw = request.headers['if-match'];
  if (raw === undefined) return undefined;
  const header = Array.isArray(raw) ? raw.join(', ') : raw;
  if (header.trim() === '*') return undefined;
  const tags: string[] = [];
  let rest = header;
  while (rest.trim() !== '') {
    const m = TAG.exec(rest);
    if (!m || tags.length >= 50)
      throw commonErrors.VALIDATION_FAILED('If-Match must be an entity tag as ETag gave it ("3"), a comma list of them, or *.', [
        { field: 'headers.if-match', code: 'invalid', message: 'not an entity tag list' },
      ]);
    if (m[2] === '*') return undefined;
    tags.push(m[1] ?? m[2]!);
    rest = rest.slice(m[0].length);
  }
  if (!tags.length)
    throw commonErrors.VALIDATION_FAILED('If-Match is empty; send the ETag you read, or leave the header out.', [
      { field: 'headers.if-match', code: 'invalid', message: 'empty' },
    ]);
  return tags;
}

/** Sets the ETag of the version a response shows (GET of one resource, and every successful write). */
export function withEtag<T extends FastifyReply>(reply: T, version: number | string): T {
  reply.header('etag', etagOf(version));
  return reply;
}
