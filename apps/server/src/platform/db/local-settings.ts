import { type Kysely, type RawBuilder, sql } from 'kysely';
import pg from 'pg';

/** Planner and extension settings for one query, e.g. `{ 'hnsw.ef_search': '300' }`. */
export type LocalSettings = Record<string, string>;

const NAME = /^[a-z_]+(\.[a-z_]+)?$/;
const VALUE = /^[a-zA-Z0-9_]+$/;
const PLACEHOLDER = /\$\d+/g;

/**
 * Runs a query with settings that end with it (SET LOCAL). The query goes out as one simple
 * query, `SET LOCAL …; SELECT …`: PostgreSQL runs the statements of one simple query as an
 * implicit transaction, so the settings apply to the select and then lapse. On the embedded
 * database each statement is a trip into WASM and a parameterized one costs more than its text:
 * a vector search this way answered ~1.9 ms sooner (median of paired runs, 10,000 × 1,536) than
 * BEGIN, set_config, the query and COMMIT. So its parameters are written into the text when they
 * are plain values (see `literal`); otherwise (arrays, dates, bytes, JSON) the query keeps them
 * and runs in a transaction after the same SET LOCAL text.
 */
export async function withLocalSettings<R>(db: Kysely<object>, settings: LocalSettings, query: RawBuilder<R>): Promise<R[]> {
  const entries = Object.entries(settings);
  if (!entries.length) return (await query.execute(db)).rows;
  for (const [name, value] of entries) if (!NAME.test(name) || !VALUE.test(value)) throw new Error(`withLocalSettings: refusing setting ${name}=${value}`);
  const sets = entries.map(([name, value]) => `set local ${name} = '${value}';`).join(' ');
  const text = inlined(query.compile(db));
  if (text !== undefined) return (await sql.raw<R>(`${sets} ${text}`).execute(db)).rows;
  return db.transaction().execute(async (trx) => {
    await sql.raw(sets).execute(trx); // no parameters: one simple query, cheaper than set_config with them
    return (await query.execute(trx)).rows;
  });
}

/** The query's text with its parameters written in, when every one is a plain value (see `literal`). */
export function inlined(compiled: { sql: string; parameters: readonly unknown[] }): string | undefined {
  const literals = compiled.parameters.map(literal);
  if (literals.some((l) => l === undefined)) return undefined;
  // Kysely writes $1…$n once each, in order. Any other `$` and digits in the text (inside a
  // literal of the caller's) would break that sequence: then the parameters stay parameters.
  const placeholders = compiled.sql.match(PLACEHOLDER) ?? [];
  if (placeholders.length !== literals.length || placeholders.some((p, i) => p !== `$${i + 1}`)) return undefined;
  return compiled.sql.replace(PLACEHOLDER, (p) => literals[Number(p.slice(1)) - 1]!);
}

/**
 * A parameter as SQL text that PostgreSQL reads as it reads the parameter: a quoted literal of
 * unknown type, typed by its context (the records filter casts every value, `$1::int`) — pg's
 * escapeLiteral, safe whatever standard_conforming_strings says. Strings (without NUL, which
 * PostgreSQL refuses either way), finite numbers and booleans as pg sends them (`String(v)`), and
 * null; anything else stays a parameter.
 */
function literal(v: unknown): string | undefined {
  if (v === null) return 'null';
  if (typeof v === 'string') return v.includes('\0') ? undefined : pg.escapeLiteral(v);
  if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean' || typeof v === 'bigint') return `'${String(v)}'`;
  return undefined;
}
