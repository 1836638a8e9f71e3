import { type RawBuilder, type Transaction, sql } from 'kysely';
import { ident, quoteIdent } from '../../platform/db/index.js';
import type { FieldDef, RelationField } from './fields.js';

/**
 * DDL for model tables. Identifiers come only from validated definitions and are always quoted
 * (ident, the one quoting function); literals (defaults, enum values, bounds) go through sql.lit. Constraints are found by
 * introspection, not by name, so renaming a field never orphans its checks.
 *
 *   create model  = create table (system columns) + addField() per field
 *   change field  = drop its checks/unique/index → alter type/null/default → add them again
 */
type Trx = Transaction<object>;

export function columnType(f: FieldDef): string {
  switch (f.type) {
    case 'string':
    case 'text':
    case 'enum':
      return 'text';
    case 'integer':
      return 'bigint';
    case 'number':
      return 'double precision';
    case 'boolean':
      return 'boolean';
    case 'date':
      return 'date';
    case 'datetime':
      return 'timestamptz';
    case 'json':
      return 'jsonb';
    case 'array':
      return { string: 'text[]', integer: 'bigint[]', number: 'double precision[]', boolean: 'boolean[]' }[f.items];
    case 'relation':
      return 'uuid';
    default: {
      const never: never = f;
      return never;
    }
  }
}

const table = (schema: string, name: string) => ident(schema, name);

function literal(f: FieldDef, value: unknown): RawBuilder<unknown> {
  if (f.type === 'json') return sql`${sql.lit(JSON.stringify(value))}::jsonb`;
  if (f.type === 'array') {
    const items = (value as unknown[]).map((v) => sql.lit(v as string));
    return sql`array[${sql.join(items)}]::${sql.raw(columnType(f))}`;
  }
  return sql`${sql.lit(value as string)}::${sql.raw(columnType(f))}`;
}

export async function createModelTable(trx: Trx, schema: string, name: string): Promise<void> {
  await sql`create table ${table(schema, name)} (
    id uuid primary key,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    created_by text,
    updated_by text
  )`.execute(trx);
  await sql`create index on ${table(schema, name)} (created_at, id)`.execute(trx);
}

/** CHECK expressions a field's options imply (one per option, so errors can name it). */
function checks(f: FieldDef): RawBuilder<unknown>[] {
  const col = ident(f.name);
  const out: RawBuilder<unknown>[] = [];
  switch (f.type) {
    case 'string':
    case 'text':
      if (f.min !== undefined && f.min > 0) out.push(sql`char_length(${col}) >= ${sql.lit(f.min)}`);
      if (f.max !== undefined) out.push(sql`char_length(${col}) <= ${sql.lit(f.max)}`);
      break;
    case 'integer':
    case 'number':
      if (f.min !== undefined) out.push(sql`${col} >= ${sql.lit(f.min)}`);
      if (f.max !== undefined) out.push(sql`${col} <= ${sql.lit(f.max)}`);
      break;
    case 'array':
      if (f.min !== undefined) out.push(sql`cardinality(${col}) >= ${sql.lit(f.min)}`);
      if (f.max !== undefined) out.push(sql`cardinality(${col}) <= ${sql.lit(f.max)}`);
      break;
    case 'enum':
      out.push(sql`${col} in (${sql.join(f.values.map((v) => sql.lit(v)))})`);
      break;
    case 'json':
      out.push(sql`jsonb_typeof(${col}) = 'object' or jsonb_typeof(${col}) = 'array'`);
      break;
    default:
      break;
  }
  return out;
}

/** Adds the column and everything its options imply. The caller has checked the data allows it. */
export async function addField(trx: Trx, schema: string, name: string, f: FieldDef): Promise<void> {
  await addColumn(trx, schema, name, f);
  await applyConstraints(trx, schema, name, f);
}

/** The column alone (with its default): constraints come with applyConstraints. */
export async function addColumn(trx: Trx, schema: string, name: string, f: FieldDef): Promise<void> {
  const dflt = 'default' in f && f.default !== undefined ? sql` default ${literal(f, f.default)}` : sql``;
  await sql`alter table ${table(schema, name)} add column ${ident(f.name)} ${sql.raw(columnType(f))}${dflt}`.execute(trx);
}

export async function applyConstraints(trx: Trx, schema: string, name: string, f: FieldDef): Promise<void> {
  const t = table(schema, name);
  const col = ident(f.name);
  if (f.required) await sql`alter table ${t} alter column ${col} set not null`.execute(trx);
  for (const c of checks(f)) await sql`alter table ${t} add check (${c})`.execute(trx);
  if (f.type === 'relation') {
    await addForeignKey(trx, schema, name, f);
    if (f.kind === 'one-to-one') await sql`create unique index on ${t} (${col})`.execute(trx);
    else await sql`create index on ${t} (${col})`.execute(trx);
    return;
  }
  if (f.unique) await sql`alter table ${t} add unique (${col})`.execute(trx);
  if (f.indexed && !f.unique) await sql`create index on ${t} (${col})`.execute(trx);
}

async function addForeignKey(trx: Trx, schema: string, name: string, f: RelationField): Promise<void> {
  const onDelete = { cascade: 'cascade', 'set null': 'set null', restrict: 'restrict' }[f.onDelete];
  await sql`alter table ${table(schema, name)} add foreign key (${ident(f.name)}) references ${table(schema, f.target)} (id) on delete ${sql.raw(onDelete)}`.execute(
    trx,
  );
}

/** Drops the checks, unique constraints, foreign keys and single-column indexes of one column. */
export async function dropConstraints(trx: Trx, schema: string, name: string, column: string): Promise<void> {
  const t = table(schema, name);
  const { rows } = await sql<{ conname: string }>`
    select c.conname from pg_constraint c
    join pg_attribute a on a.attrelid = c.conrelid and a.attnum = any(c.conkey)
    where c.conrelid = to_regclass(${`${quoteIdent(schema)}.${quoteIdent(name)}`})
      and a.attname = ${column} and c.contype in ('c', 'u', 'f') and cardinality(c.conkey) = 1`.execute(trx);
  for (const r of rows) await sql`alter table ${t} drop constraint ${ident(r.conname)}`.execute(trx);
  const idx = await sql<{ relname: string }>`
    select i.relname from pg_index x
    join pg_class i on i.oid = x.indexrelid
    join pg_attribute a on a.attrelid = x.indrelid and a.attnum = x.indkey[0]
    where x.indrelid = to_regclass(${`${quoteIdent(schema)}.${quoteIdent(name)}`})
      and x.indnatts = 1 and not x.indisprimary and a.attname = ${column}`.execute(trx);
  for (const r of idx.rows) await sql`drop index ${ident(schema, r.relname)}`.execute(trx);
  await sql`alter table ${t} alter column ${ident(column)} drop not null`.execute(trx);
}

export async function setDefault(trx: Trx, schema: string, name: string, f: FieldDef): Promise<void> {
  const t = table(schema, name);
  if ('default' in f && f.default !== undefined) await sql`alter table ${t} alter column ${ident(f.name)} set default ${literal(f, f.default)}`.execute(trx);
  else await sql`alter table ${t} alter column ${ident(f.name)} drop default`.execute(trx);
}

export async function fillNulls(trx: Trx, schema: string, name: string, f: FieldDef): Promise<number> {
  if (!('default' in f) || f.default === undefined) return 0;
  const r = await sql`update ${table(schema, name)} set ${ident(f.name)} = ${literal(f, f.default)} where ${ident(f.name)} is null`.execute(trx);
  return Number(r.numAffectedRows ?? 0);
}

export async function alterType(trx: Trx, schema: string, name: string, column: string, to: FieldDef): Promise<void> {
  const type = sql.raw(columnType(to));
  await sql`alter table ${table(schema, name)} alter column ${ident(column)} drop default`.execute(trx);
  await sql`alter table ${table(schema, name)} alter column ${ident(column)} type ${type} using ${ident(column)}::${type}`.execute(trx);
}

export const dropColumn = (trx: Trx, schema: string, name: string, column: string) =>
  sql`alter table ${table(schema, name)} drop column ${ident(column)}`.execute(trx);
export const renameColumn = (trx: Trx, schema: string, name: string, from: string, to: string) =>
  sql`alter table ${table(schema, name)} rename column ${ident(from)} to ${ident(to)}`.execute(trx);
export const renameTable = (trx: Trx, schema: string, from: string, to: string) => sql`alter table ${table(schema, from)} rename to ${ident(to)}`.execute(trx);
export const dropTable = (trx: Trx, schema: string, name: string) => sql`drop table ${table(schema, name)}`.execute(trx);

export async function hasRows(trx: Trx, schema: string, name: string): Promise<boolean> {
  const r = await sql<{ e: boolean }>`select exists (select 1 from ${table(schema, name)}) as e`.execute(trx);
  return Boolean(r.rows[0]?.e);
}

export async function countWhere(trx: Trx, schema: string, name: string, where: RawBuilder<unknown>): Promise<number> {
  const r = await sql<{ n: number }>`select count(*)::int as n from ${table(schema, name)} where ${where}`.execute(trx);
  return r.rows[0]?.n ?? 0;
}

/** Values that occur more than once in a column (for refusing a new unique constraint). */
export async function duplicateCount(trx: Trx, schema: string, name: string, column: string): Promise<number> {
  const r = await sql<{
    n: number;
  }>`select count(*)::int as n from (select 1 from ${table(schema, name)} where ${ident(column)} is not null group by ${ident(column)} having count(*) > 1) d`.execute(
    trx,
  );
  return r.rows[0]?.n ?? 0;
}

export const isNullWhere = (column: string) => sql`${ident(column)} is null`;
export const fractionalWhere = (column: string) => sql`${ident(column)} <> trunc(${ident(column)})`;

/**
 * Embedding columns, kept in the model's own table so a similarity search and a records filter
 * are one SQL statement:
 *   _embedding     vector(d) with an HNSW cosine index (pgvector), or real[] (exact scan)
 *   _emb_src       md5 of the source fields, generated by Postgres on every write
 *   _emb_hash      the _emb_src the stored vector was computed from (pending = they differ)
 *   _emb_lease     claimed by a worker until, or retry not before (after a failure)
 *   _emb_attempts, _emb_fail_src, _emb_error: failures of the current content, with the reason
 *   _fts           the source fields' full-text document (tsvector), generated on every write, with
 *                  a GIN index: keyword and hybrid search match and rank it
 * The index on pending rows holds only rows that need work: finding them costs nothing when none do.
 */
export async function addEmbeddingColumns(trx: Trx, schema: string, name: string, sourceFields: string[], dimensions: number, vector: boolean): Promise<void> {
  const t = table(schema, name);
  const src = sql.join(
    sourceFields.map((f) => sql`coalesce(${ident(f)}, '')`),
    sql` || E'\\n' || `,
  );
  const type = vector ? sql.raw(`vector(${dimensions})`) : sql.raw('real[]');
  await sql`alter table ${t}
    add column _embedding ${type},
    add column _emb_src text generated always as (md5(${src})) stored,
    add column _emb_hash text,
    add column _emb_lease timestamptz,
    add column _emb_attempts integer not null default 0,
    add column _emb_fail_src text,
    add column _emb_error text,
    add column _fts tsvector generated always as (${searchDocument(sourceFields)}) stored`.execute(trx);
  await sql`create index on ${t} (_emb_lease) where _emb_hash is distinct from _emb_src`.execute(trx);
  // pgvector's HNSW takes vectors of at most 2,000 dimensions; larger ones are scanned exactly.
  // A wider build search than the default 64 makes a better graph (bench, 10,000 × 1,536 lexical
  // vectors at search width 400: recall@10 0.955 → 0.982, filtered 0.941 → 0.952, back-fill 6%
  // slower); m = 24 / ef_construction = 200 reached 0.988 but made searches slower and back-fill 2.5×.
  if (vector && dimensions <= 2000) await sql`create index on ${t} using hnsw (_embedding vector_cosine_ops) with (m = 16, ef_construction = 128)`.execute(trx);
  // Keyword and hybrid search match the same source text: a GIN index finds the matches (10,000
  // records, bench/vectors.ts: keyword search p50 ~270 ms → 4.6 ms), and the stored document is
  // what ts_rank reads. With an index on the expression alone, ranking computed the document again
  // for every match: ~35 µs each in the embedded database, 29 ms for a two-word query matching
  // 823 passages of real text. Source fields stay text while embedded.
  // Named by Postgres (<table>__fts_idx, unique in the schema), dropped with its column.
  await sql`create index on ${t} using gin (_fts)`.execute(trx);
}

/** The full-text document of an embedded model's source fields (immutable, so it can be generated). */
function searchDocument(sourceFields: string[]): RawBuilder<unknown> {
  return sql`to_tsvector('simple'::regconfig, ${sql.join(
    sourceFields.map((f) => sql`coalesce(${ident(f)}, '')`),
    sql` || ' ' || `,
  )})`;
}

/** The stored full-text document of an embedded model's record (`_fts`, see addEmbeddingColumns). */
export const searchDocumentColumn = (alias: string): RawBuilder<unknown> => ident(alias, '_fts');

/** Drops the embedding columns; their indexes go with them. */
export async function dropEmbeddingColumns(trx: Trx, schema: string, name: string): Promise<void> {
  await sql`alter table ${table(schema, name)}
    drop column if exists _embedding, drop column if exists _emb_src, drop column if exists _emb_hash, drop column if exists _emb_lease,
    drop column if exists _emb_attempts, drop column if exists _emb_fail_src, drop column if exists _emb_error, drop column if exists _fts`.execute(trx);
}
