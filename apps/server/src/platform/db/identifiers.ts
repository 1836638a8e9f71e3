import { type RawBuilder, sql } from 'kysely';

/**
 * The one way an identifier (schema, table, column, alias) is written into SQL: in double quotes,
 * a double quote inside it doubled. Model, field and schema names come from validated definitions,
 * but they are quoted all the same, always by this function: as text where SQL is built as a string
 * (bulk inserts, column lists), as a fragment (`ident`) where it is built with Kysely's `sql`.
 */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * An identifier, or a qualified one, as a query fragment: `ident('org_x', 'notes')` → `"org_x"."notes"`,
 * `ident('t', 'title')` → `"t"."title"`. Each part is quoted whole (never split on dots).
 */
export function ident(...parts: [string, ...string[]]): RawBuilder<unknown> {
  return sql.raw(parts.map(quoteIdent).join('.'));
}
