export { openDatabase, type Database, type DatabaseOptions, type DatabaseInfo } from './database.js';
export { migrateToLatest, migrationStatus, type MigrationReport } from './migrator.js';
export { inTransaction, type UnitOfWork } from './transaction.js';
export { sql, type Kysely, type Transaction, type Selectable, type Insertable, type Updateable } from 'kysely';
export { isUniqueViolation, isForeignKeyViolation, pgErrorCode } from './pg-errors.js';
export type { PoolLike, QueryResultLike } from './pglite-pool.js';
export { localNotifier, postgresNotifier, type Notifier } from './notifier.js';
export { Batcher } from './batcher.js';
export { vectorLiteral } from './vectors.js';
