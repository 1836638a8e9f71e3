export { systemRoutes, type SystemContext } from './system.routes.js';
export { adminRoutes } from './admin.routes.js';
export { rotateMasterKey, verifyAudit, backupInstance, restoreInstance, type AdminContext } from './admin.js';
export { scheduleBackups, runScheduledBackup, type BackupSchedule } from './scheduled-backup.js';
