import { type Kysely, sql } from 'kysely';

/**
 * Keyword and hybrid search of models with embeddings are answered by a GIN index on their source
 * text (created since with the embedding columns). Models that enabled embeddings before get it
 * here. The expression is the one search uses (schema/ddl.ts searchDocument), spelled out: a
 * shipped migration must not change when that code does.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const models = await sql<{ schema: string; name: string; fields: string[] }>`
    select o.schema_name as schema, m.name, array(select jsonb_array_elements_text(m.embedding -> 'sourceFields')) as fields
    from models m join organizations o on o.id = m.org_id
    where (m.embedding ->> 'enabled')::boolean and jsonb_array_length(m.embedding -> 'sourceFields') > 0`.execute(db);
  for (const m of models.rows) {
    const exists = await sql`select 1 from pg_indexes where schemaname = ${m.schema} and tablename = ${m.name} and indexname like '%\_\_fts\_idx'`.execute(db);
    if (exists.rows.length) continue;
    const doc = sql.join(
      m.fields.map((f) => sql`coalesce(${sql.ref(f)}, '')`),
      sql` || ' ' || `,
    );
    await sql`create index ${sql.id(`${m.name}__fts_idx`)} on ${sql.id(m.schema, m.name)} using gin (to_tsvector('simple'::regconfig, ${doc}))`.execute(db);
  }
}

export async function down(): Promise<void> {
  // The indexes belong to the models' tables; disabling embeddings drops them.
}
