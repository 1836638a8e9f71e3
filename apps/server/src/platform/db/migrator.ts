import { type Kysely, type Migration, Migrator } from 'kysely';
import { systemMigrations } from './migrations/index.js';

export interface MigrationReport {
  applied: string[];
  pending: string[];
}

function migrator(db: Kysely<object>): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: async (): Promise<Record<string, Migration>> => systemMigrations },
    migrationTableName: 'infinity_migrations',
    migrationLockTableName: 'infinity_migrations_lock',
  });
}

/** Applies every pending system migration in one transaction under Kysely's advisory lock. */
export async function migrateToLatest(db: Kysely<object>): Promise<string[]> {
  const { error, results } = await migrator(db).migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error('migration failed', { cause: error });
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

export async function migrationStatus(db: Kysely<object>): Promise<MigrationReport> {
  const all = await migrator(db).getMigrations();
  return {
    applied: all.filter((m) => m.executedAt).map((m) => m.name),
    pending: all.filter((m) => !m.executedAt).map((m) => m.name),
  };
}
