import { type Kysely, sql } from 'kysely';

/**
 * The full-text document of a model with embeddings becomes a stored column, `_fts` (created
 * since with the embedding columns, schema/ddl.ts addEmbeddingColumns), with its GIN index in
 * place of the index on the expression (0008): ranking a match then reads the stored document
 * instead of computing it again. The expression is the one 0008 indexed, spelled out: a shipped
 * migration must not change when that code does; so is the query for the models, as 0008 has it
 * (shared code could change under a shipped migration). Adding a stored column rewrites the table
 * once, and its indexes are rebuilt (runtime.ts says so before migrating).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const models = await sql<{ schema: string; name: string; fields: string[] }>`
    select o.schema_name as schema, m.name, array(select jsonb_array_elements_text(m.embedding -> 'sourceFields')) as fields
    from models m join organizations o on o.id = m.org_id
    where (m.embedding ->> 'enabled')::boolean and jsonb_array_length(m.embedding -> 'sourceFields') > 0`.execute(db);
  for (const m of models.rows) {
    const has =
      await sql`select 1 from information_schema.columns where table_schema = ${m.schema} and table_name = ${m.name} and column_name = '_fts'`.execute(db);
    if (has.rows.length) continue;
    const old = await sql<{
      name: string;
    }>`select indexname as name from pg_indexes where schemaname = ${m.schema} and tablename = ${m.name} and indexname like '%\_\_fts\_idx'`.execute(db);
    for (const i of old.rows) await sql`drop index ${sql.id(m.schema, i.name)}`.execute(db);
    const doc = sql.join(
      m.fields.map((f) => sql`coalesce(${sql.ref(f)}, '')`),
      sql` || ' ' || `,
    );
    await sql`alter table ${sql.id(m.schema, m.name)} add column _fts tsvector generated always as (to_tsvector('simple'::regconfig, ${doc})) stored`.execute(
      db,
    );
    await sql`create index on ${sql.id(m.schema, m.name)} using gin (_fts)`.execute(db);
  }
}

export async function down(): Promise<void> {
  // The column belongs to the models' tables; disabling embeddings drops it.
}
