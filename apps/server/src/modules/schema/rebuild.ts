import type { Transaction } from 'kysely';
import * as ddl from './ddl.js';
import type { EmbeddingConfig, FieldDef } from './fields.js';

export interface ModelShape {
  name: string;
  fields: FieldDef[];
  embedding: EmbeddingConfig | null;
}

/**
 * Builds an organization's model tables from their definitions with the same DDL that made them
 * (restoring a backup, also onto PostgreSQL without pgvector), in two steps so rows can be loaded
 * in any order in between: `createForLoad` makes every table with its fields, constraints and
 * embedding columns, relation columns bare; `finishRelations` then adds their foreign keys and
 * indexes (which checks every loaded reference).
 */
export async function createForLoad(trx: Transaction<object>, schema: string, models: ModelShape[], vector: boolean): Promise<void> {
  for (const m of models) {
    await ddl.createModelTable(trx, schema, m.name);
    for (const f of m.fields) {
      if (f.type === 'relation') await ddl.addColumn(trx, schema, m.name, f);
      else await ddl.addField(trx, schema, m.name, f);
    }
    if (m.embedding?.enabled) await ddl.addEmbeddingColumns(trx, schema, m.name, m.embedding.sourceFields, m.embedding.dimensions, vector);
  }
}

export async function finishRelations(trx: Transaction<object>, schema: string, models: ModelShape[]): Promise<void> {
  for (const m of models) for (const f of m.fields) if (f.type === 'relation') await ddl.applyConstraints(trx, schema, m.name, f);
}
