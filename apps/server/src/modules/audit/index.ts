export { recordAudit, listAudit, verifyAuditChain, INSTANCE_CHAIN, type AuditInput, type AuditEntry, type VerifyReport } from './audit.service.js';
export { auditRoutes } from './audit.routes.js';
