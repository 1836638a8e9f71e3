import { type Kysely, type RawBuilder, sql } from 'kysely';

/** Planner and extension settings for one query, e.g. `{ 'hnsw.ef_search': '300' }`. */
export type LocalSettings = Record<string, string>;

const NAME = /^[a-z_]+(\.[a-z_]+)?$/;
const VALUE = /^[a-zA-Z0-9_]+$/;

/**
 * Runs a query with settings that end with it (SET LOCAL). A query without parameters goes out
 * as one simple query, `SET LOCAL …; SELECT …`: PostgreSQL runs the statements of one simple
 * query as an implicit transaction, so the settings apply to the select and then lapse. On the
 * embedded database each statement is a trip into WASM and a parameterized one costs more than
 * its text: a vector search this way answered ~1.9 ms sooner (median of paired runs, 10,000 ×
 * 1,536) than BEGIN, set_config, the query and COMMIT. A query with parameters still needs the
 * transaction; its settings go in as SET LOCAL text too (0.25 ms less than set_config with them).
 */
export async function withLocalSettings<R>(db: Kysely<object>, settings: LocalSettings, query: RawBuilder<R>): Promise<R[]> {
  const entries = Object.entries(settings);
  if (!entries.length) return (await query.execute(db)).rows;
  for (const [name, value] of entries) if (!NAME.test(name) || !VALUE.test(value)) throw new Error(`withLocalSettings: refusing setting ${name}=${value}`);
  const sets = entries.map(([name, value]) => `set local ${name} = '${value}';`).join(' ');
  const compiled = query.compile(db);
  if (compiled.parameters.length === 0) return (await sql.raw<R>(`${sets} ${compiled.sql}`).execute(db)).rows;
  return db.transaction().execute(async (trx) => {
    await sql.raw(sets).execute(trx); // no parameters: one simple query, cheaper than set_config with them
    return (await query.execute(trx)).rows;
  });
}
