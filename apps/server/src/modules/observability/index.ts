export { LogStore, appEntryOf, type LogTables, type RequestEntry } from './log-store.js';
export { Metrics, type PoolStats } from './metrics.js';
export { observabilityRoutes } from './observability.routes.js';
export { observabilityErrors } from './observability.errors.js';
