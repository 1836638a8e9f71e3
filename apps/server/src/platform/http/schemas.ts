import { z } from 'zod';
import { type KeyType, decodeKeyset, encodeKeyset } from '../db/keyset.js';
import { commonErrors } from '../errors.js';

/** Query parameters of every offset-paged list. */
export const pageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
});

/**
 * Query parameters of a list paged by keyset cursor (offset still works, for compatibility):
 * `cursor` is the `meta.nextCursor` of the previous page. Unlike an offset, a cursor neither skips
 * nor repeats rows while rows are added or removed between pages.
 */
export const cursorPageQuery = pageQuery.extend({
  cursor: z.string().max(2000).optional().describe('meta.nextCursor of the previous page (keyset paging: stable while rows are added); not with offset'),
});

/**
 * The cursor of one list in one fixed order (`list` names it, so a cursor of another list is
 * refused), with the PostgreSQL type of each sort value. A forged or damaged cursor is a 400.
 */
export function listCursor(list: string, types: KeyType[]) {
  const spec = types.map((type) => ({ type }));
  return {
    encode: (values: string[]): string => encodeKeyset(list, values),
    /** The sort values after which the page starts; undefined without a cursor. */
    decode(q: { cursor?: string | undefined; offset: number }): string[] | undefined {
      if (q.cursor === undefined || q.cursor === '') return undefined;
      const invalid = (message: string) => commonErrors.VALIDATION_FAILED(message, [{ field: 'cursor', code: 'invalid', message }]);
      if (q.offset) throw invalid('use cursor or offset, not both');
      const values = decodeKeyset(list, q.cursor, spec);
      if (!values) throw invalid('cursor is not one this API issued for this list; start again without cursor');
      return values as string[];
    },
  };
}

/** The page of `limit` rows out of `limit + 1` read, and the cursor after it when there are more. */
export function pageOf<T>(rows: T[], limit: number, cursorOf: (last: T) => string): { rows: T[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  return { rows: page, nextCursor: rows.length > limit && page.length ? cursorOf(page[page.length - 1]!) : null };
}

/**
 * Query of a list the server reads whole (a small catalogue: organizations, models, node types):
 * the same limit and offset, but the default limit is the maximum, so a plain GET still returns
 * everything, and meta says how many there are.
 */
export const wholeListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(1000),
  offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
});

/** A page of a list held whole in memory, with its meta. */
export function pageOfAll<T>(all: T[], q: { limit: number; offset: number }) {
  return { data: all.slice(q.offset, q.offset + q.limit), meta: listMeta(all.length, q.limit, q.offset) };
}

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
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  );

/** Body of an action route that takes no input: nothing, or an empty object. Anything else is refused. */
export const emptyBody = z.strictObject({}).nullish();

/**
 * Route option for responses built field by field by DTO functions (never raw rows): the response
 * schema stays for the API reference, the bytes are plain JSON.stringify. Zod re-validating such a
 * body costs several percent of a fast request and protects nothing.
 */
export const plainJsonSerializer = { serializerCompiler: () => (data: unknown) => JSON.stringify(data) };
