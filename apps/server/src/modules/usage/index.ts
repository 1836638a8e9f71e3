export { type QuotaGate, NO_QUOTAS, Quotas, METRIC_LABELS } from './quotas.js';
export { usageErrors } from './usage.errors.js';
export { monthStart, insertNotification, managerEmails, claimMail, releaseMail } from './usage.repo.js';
export { quotasModule, usageModule } from './usage.module.js';
