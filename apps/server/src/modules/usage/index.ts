export { type QuotaGate, NO_QUOTAS, Quotas, METRIC_LABELS } from './quotas.js';
export { usageRoutes, type TokenBreakdown } from './usage.routes.js';
export { usageErrors } from './usage.errors.js';
export { type UsageTables, monthStart } from './usage.repo.js';
