import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { commonErrors } from '../errors.js';

const MAX_DEPTH = 100;

/** The first place in `v` (a parsed body, query or params) where U+0000 occurs, as a dotted path. */
export function findNul(v: unknown, path: string, depth = 0): string | null {
  if (typeof v === 'string') return v.includes('\u0000') ? path : null;
  if (v === null || typeof v !== 'object' || depth > MAX_DEPTH) return null;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const at = findNul(v[i], `${path}.${i}`, depth + 1);
      if (at) return at;
    }
    return null;
  }
  for (const key in v) {
    if (!Object.hasOwn(v, key)) continue;
    if (key.includes('\u0000')) return `${path}.${key.replaceAll('\u0000', '\\u0000')}`;
    const at = findNul((v as Record<string, unknown>)[key], `${path}.${key}`, depth + 1);
    if (at) return at;
  }
  return null;
}

/**
 * PostgreSQL stores neither text nor jsonb containing U+0000: a request carrying it (a "\u0000"
 * escape in JSON, "%00" in a query string) is refused here with a 400 that says where, instead of
 * failing in the database as a 500. Every parser's output passes through (JSON, forms, the raw
 * text of webhooks). A preValidation hook.
 */
export function nulGuard(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const at = findNul(request.body, 'body') ?? findNul(request.query, 'query') ?? findNul(request.params, 'params');
  if (!at) return done();
  done(commonErrors.VALIDATION_FAILED(`Invalid request: ${at} contains the NUL character (U+0000), which cannot be stored.`, [{ field: at, code: 'nul_character', message: 'The NUL character (U+0000) cannot be stored.' }]));
}
