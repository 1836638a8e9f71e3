import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { commonErrors } from '../errors.js';

const MAX_DEPTH = 100;
/** A high surrogate not followed by a low one, or a low one not preceded by a high one (String#isWellFormed, ES2024). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why PostgreSQL cannot store a string, or null when it can. */
export function unstorable(s: string): { code: 'nul_character' | 'invalid_unicode'; message: string } | null {
  if (s.includes('\u0000')) return { code: 'nul_character', message: 'The NUL character (U+0000) cannot be stored.' };
  // A lone surrogate (an unpaired "\ud800" escape) is not Unicode text: jsonb refuses it.
  if (LONE_SURROGATE.test(s)) return { code: 'invalid_unicode', message: 'The text has an unpaired surrogate (\\ud800–\\udfff): it is not valid Unicode.' };
  return null;
}

/** The first string in `v` (a parsed body, query or params; keys too) PostgreSQL cannot store: where, and why. */
export function findUnstorable(v: unknown, path: string, depth = 0): { field: string; code: string; message: string } | null {
  if (typeof v === 'string') {
    const why = unstorable(v);
    return why && { field: path, ...why };
  }
  if (v === null || typeof v !== 'object' || depth > MAX_DEPTH) return null;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const at = findUnstorable(v[i], `${path}.${i}`, depth + 1);
      if (at) return at;
    }
    return null;
  }
  for (const key in v) {
    if (!Object.hasOwn(v, key)) continue;
    const why = unstorable(key);
    if (why) return { field: `${path}.${JSON.stringify(key).slice(1, -1)}`, ...why };
    const at = findUnstorable((v as Record<string, unknown>)[key], `${path}.${key}`, depth + 1);
    if (at) return at;
  }
  return null;
}

/**
 * PostgreSQL stores neither text nor jsonb containing U+0000 or unpaired surrogates: a request
 * carrying them (a "\u0000" or lone "\ud800" escape in JSON, "%00" in a query string) is refused
 * here with a 400 that says where, instead of failing in the database as a 500. Every parser's
 * output passes through (JSON, forms, the raw text of webhooks). A preValidation hook.
 */
export function textGuard(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const at = findUnstorable(request.body, 'body') ?? findUnstorable(request.query, 'query') ?? findUnstorable(request.params, 'params');
  if (!at) return done();
  done(commonErrors.VALIDATION_FAILED(`Invalid request: ${at.field}: ${at.message}`, [at]));
}
