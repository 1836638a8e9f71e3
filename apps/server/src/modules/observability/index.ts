export { LogStore, type RequestEntry } from './log-store.js';
export { Metrics, type PoolStats } from './metrics.js';
export { observabilityErrors } from './observability.errors.js';
export { observabilityModule } from './observability.module.js';
