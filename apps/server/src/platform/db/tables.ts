/**
 * A module's tables in the form Kysely's `withTables<T>()` accepts: `db.withTables<TablesOf<FlowTables>>()`
 * is the shared connection typed with those tables, without a cast (an interface has no index
 * signature, which `withTables` requires; this mapped copy of it does).
 */
export type TablesOf<T> = { [K in keyof T]: T[K] };
