import { type RawBuilder, sql } from 'kysely';
import { type KeyType, decodeKeyset, encodeKeyset, ident, keyText, keyValue } from '../../platform/db/index.js';
import { z } from 'zod';
import type { ModelDef, OrgModels } from '../schema/index.js';
import { type FilterNode, compileFilter, filterFromQuery, parseFilter, systemField } from './filter.js';
import { recordErrors } from './records.errors.js';

export interface SortKey {
  column: string;
  name: string;
  desc: boolean;
  /** The column's PostgreSQL type, which a cursor value is cast to. */
  type: KeyType;
}

export interface ListQuery {
  filter: FilterNode | undefined;
  sort: SortKey[];
  limit: number;
  offset: number;
  cursor: { values: (string | null)[]; id: string } | undefined;
  fields: string[] | undefined;
  expand: string[];
  q: string | undefined;
  count: boolean;
}

const bad = (m: string): never => {
  throw recordErrors.QUERY_INVALID(m);
};

const scalar = z.string().max(20_000);
/**
 * The named parameters of a list, for the OpenAPI document only (parseListQuery checks them): the
 * query string is a map, so that `filter[field][op]` keys of any depth pass, and a map has no
 * parameters a code generator can see unless they are listed.
 */
export const LIST_QUERY_PARAMETERS = {
  filter: {
    type: 'string',
    description:
      'A JSON filter, e.g. {"price":{"gt":5}}; or filter[field][op]=value keys instead (nested: filter[or][0][price][gt]=5, related: filter[company.name][eq]=Acme)',
  },
  sort: { type: 'string', description: 'Fields, a leading - for descending: -price,name' },
  limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
  offset: { type: 'integer', minimum: 0, maximum: 10_000_000, default: 0 },
  cursor: { type: 'string', description: 'meta.nextCursor of the previous page (not with offset)' },
  fields: { type: 'string', description: 'Only these fields, comma-separated: a,b' },
  expand: { type: 'string', description: 'Relations to embed, comma-separated: company,employees' },
  q: { type: 'string', maxLength: 500, description: 'Full-text search' },
  count: { type: 'string', enum: ['exact', 'none'], default: 'none', description: 'exact: meta.total counts every match' },
} as const;
/** The query string of a list: fixed parameters plus any number of filter[...] keys. */
export const listQuerystring = z
  .record(z.string().max(300), z.union([scalar, z.array(scalar).max(50)]))
  .refine((q) => Object.keys(q).length <= 250, 'too many query parameters')
  .meta({
    description:
      'filter[field][op]=value (nested: filter[or][0][price][gt]=5, related: filter[company.name][eq]=Acme) or filter=<JSON>; sort=-price,name; limit; offset; cursor; fields=a,b; expand=company,employees; q=text; count=exact|none',
    properties: LIST_QUERY_PARAMETERS,
  });

function single(q: Record<string, string | string[]>, key: string): string | undefined {
  const v = q[key];
  if (Array.isArray(v)) bad(`"${key}" is given more than once`);
  return v as string | undefined;
}

function csv(s: string | undefined): string[] {
  return s
    ? s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
    : [];
}

/** Each sortable field type as the PostgreSQL type of its column. */
const CAST: Record<string, KeyType> = {
  string: 'text',
  text: 'text',
  enum: 'text',
  integer: 'bigint',
  number: 'double precision',
  boolean: 'boolean',
  date: 'date',
  datetime: 'timestamptz',
  relation: 'uuid',
  uuid: 'uuid',
};

export function parseSort(model: ModelDef, raw: string | undefined): SortKey[] {
  const keys: SortKey[] = [];
  for (const part of csv(raw)) {
    const desc = part.startsWith('-');
    const name = desc ? part.slice(1) : part;
    const sys = systemField(name);
    const f = model.fields.find((x) => x.name === name);
    if (!sys && !f) bad(`cannot sort by unknown field "${name.slice(0, 60)}"`);
    if (f && (f.type === 'json' || f.type === 'array')) bad(`cannot sort by ${f.type} field "${name}"`);
    if (keys.some((k) => k.name === name)) bad(`"${name}" appears twice in sort`);
    keys.push({ name, column: sys ? sys.column : name, desc, type: CAST[sys ? sys.type : f!.type]! });
  }
  if (keys.length > 5) bad('sort by at most 5 fields');
  if (!keys.length) keys.push({ name: 'createdAt', column: 'created_at', desc: false, type: 'timestamptz' });
  if (!keys.some((k) => k.name === 'id')) keys.push({ name: 'id', column: 'id', desc: keys[keys.length - 1]!.desc, type: 'uuid' });
  return keys;
}

const sortSpec = (sort: SortKey[]) => sort.map((k) => `${k.desc ? '-' : ''}${k.name}`).join(',');

/** The sort columns as exact text (cursorColumnsOf) are read back from a row under these names. */
const keyAlias = (i: number) => `_key${i}`;

/** Extra select list of a paged query: each sort column as exact text, for the next cursor. */
export function cursorColumnsOf(alias: string, sort: SortKey[], fromPage = false): RawBuilder<unknown> {
  return sql.join(sort.map((k, i) => sql`${keyText(ident(alias, fromPage ? rawAlias(i) : k.column))} as ${ident(keyAlias(i))}`));
}

/** The sort columns as they are, under their own names, for an outer query over a page (records.service listRecords). */
const rawAlias = (i: number) => `_sort${i}`;
export function sortColumnsOf(alias: string, sort: SortKey[]): RawBuilder<unknown> {
  return sql.join(sort.map((k, i) => sql`${ident(alias, k.column)} as ${ident(rawAlias(i))}`));
}

/** The page's own order again, over sortColumnsOf's names (a page of ≤ 1,001 rows: cheap). */
export function pageOrderOf(alias: string, sort: SortKey[]): RawBuilder<unknown> {
  return sql.join(sort.map((k, i) => sql`${ident(alias, rawAlias(i))} ${sql.raw(k.desc ? 'desc' : 'asc')}`));
}

/** The cursor after `row`, which was selected with cursorColumnsOf. */
export function encodeCursor(sort: SortKey[], row: Record<string, unknown>): string {
  return encodeKeyset(
    sortSpec(sort),
    sort.map((_k, i) => (row[keyAlias(i)] ?? null) as string | null),
  );
}

/**
 * A cursor's values, each checked against its sort column's type: a forged or damaged cursor is
 * a 400, never a cast error from the database.
 */
export function decodeCursor(sort: SortKey[], raw: string): { values: (string | null)[]; id: string } {
  const values = decodeKeyset(
    sortSpec(sort),
    raw,
    sort.map((k) => ({ type: k.type, nullable: k.name !== 'id' })),
  );
  if (!values) return bad('cursor is not one this API issued for this sort order (sort and cursor must match); start again without cursor');
  return { values, id: values[values.length - 1]! };
}

export function parseListQuery(model: ModelDef, q: Record<string, string | string[]>): ListQuery {
  const limitRaw = single(q, 'limit');
  const offsetRaw = single(q, 'offset');
  const limit = limitRaw === undefined ? 50 : Number(limitRaw);
  const offset = offsetRaw === undefined ? 0 : Number(offsetRaw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) bad('limit must be an integer from 1 to 1000');
  if (!Number.isInteger(offset) || offset < 0 || offset > 10_000_000) bad('offset must be a non-negative integer');
  const sort = parseSort(model, single(q, 'sort'));
  const cursorRaw = single(q, 'cursor');
  if (cursorRaw && offset) bad('use cursor or offset, not both');
  const fields = single(q, 'fields') !== undefined ? csv(single(q, 'fields')) : undefined;
  const expand = csv(single(q, 'expand'));
  // A relation named in expand may also be named in fields (an inverse one is not a column).
  for (const f of fields ?? [])
    if (!model.fields.some((x) => x.name === f) && !systemField(f) && !expand.includes(f))
      bad(`unknown field "${f.slice(0, 60)}" in fields (a relation listed here must also be in expand)`);
  const countRaw = single(q, 'count') ?? 'none';
  if (countRaw !== 'exact' && countRaw !== 'none') bad('count must be exact or none');
  const qText = single(q, 'q');
  if (qText !== undefined && qText.length > 500) bad('q is longer than 500 characters');
  for (const key of Object.keys(q)) {
    if (!['limit', 'offset', 'sort', 'cursor', 'fields', 'expand', 'q', 'count', 'filter'].includes(key) && !key.startsWith('filter['))
      bad(`unknown query parameter "${key.slice(0, 60)}"`);
  }
  return {
    filter: parseFilter(filterFromQuery(q)),
    sort,
    limit,
    offset,
    cursor: cursorRaw ? decodeCursor(sort, cursorRaw) : undefined,
    fields,
    expand,
    q: qText?.trim() || undefined,
    count: countRaw === 'exact',
  };
}

/**
 * Keyset condition "after the cursor row" for any mix of directions, nulls included
 * (Postgres orders nulls last ascending and first descending):
 *   (k1 after v1) or (k1 tie v1 and k2 after v2) or …
 */
export function afterCursor(alias: string, sort: SortKey[], values: (string | null)[]): RawBuilder<boolean> {
  const ors: RawBuilder<boolean>[] = [];
  const ties: RawBuilder<boolean>[] = [];
  sort.forEach((k, i) => {
    const col = ident(alias, k.column);
    const v = values[i];
    let after: RawBuilder<boolean>;
    let tie: RawBuilder<boolean>;
    if (v === null || v === undefined) {
      after = k.desc ? sql<boolean>`${col} is not null` : sql<boolean>`false`;
      tie = sql<boolean>`${col} is null`;
    } else {
      const val = keyValue(k.type, v);
      after = k.desc ? sql<boolean>`${col} < ${val}` : sql<boolean>`(${col} > ${val} or ${col} is null)`;
      tie = sql<boolean>`${col} = ${val}`;
    }
    ors.push(ties.length ? sql<boolean>`(${sql.join([...ties, after], sql` and `)})` : after);
    ties.push(tie);
  });
  return sql<boolean>`(${sql.join(ors, sql` or `)})`;
}

/** The WHERE of a list: the records filter and the q text search, over alias `t`. */
export function whereFor(model: ModelDef, models: OrgModels, q: Pick<ListQuery, 'filter' | 'q'>): RawBuilder<boolean> {
  const parts: RawBuilder<boolean>[] = [];
  if (q.filter) parts.push(compileFilter({ model, models }, 't', q.filter));
  if (q.q) {
    const texts = model.fields.filter((f) => f.type === 'string' || f.type === 'text' || f.type === 'enum');
    if (!texts.length) throw recordErrors.QUERY_INVALID(`Model ${model.name} has no text fields to search with q.`);
    const doc = sql`concat_ws(' ', ${sql.join(texts.map((f) => ident('t', f.name)))})`;
    parts.push(
      sql<boolean>`(to_tsvector('simple', ${doc}) @@ plainto_tsquery('simple', ${q.q}) or ${doc} ilike ${`%${q.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`})`,
    );
  }
  return parts.length ? sql<boolean>`${sql.join(parts, sql` and `)}` : sql<boolean>`true`;
}
