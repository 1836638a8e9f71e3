import { z } from 'zod';

/** Query parameters of every offset-paged list. */
export const pageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
});

export const uuidParam = z.uuid({ message: 'must be a UUID' });
export const idParams = z.strictObject({ id: uuidParam });

/** ISO 8601 UTC timestamps on the wire. */
export const isoDate = z.string().describe('ISO 8601 UTC timestamp');

export function listMeta(total: number | null, limit: number, offset: number, nextCursor: string | null = null) {
  return { total, limit, offset, nextCursor };
}

/** A comma list in a query string ("a,b") as an array. */
export const csvList = z
  .string()
  .max(2000)
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));

/** Body of an action route that takes no input: nothing, or an empty object. Anything else is refused. */
export const emptyBody = z.strictObject({}).nullish();

/**
 * Route option for responses built field by field by DTO functions (never raw rows): the response
 * schema stays for the API reference, the bytes are plain JSON.stringify. Zod re-validating such a
 * body costs several percent of a fast request and protects nothing.
 */
export const plainJsonSerializer = { serializerCompiler: () => (data: unknown) => JSON.stringify(data) };
