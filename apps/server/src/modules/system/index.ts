export { rotateMasterKey, verifyAudit, backupInstance, restoreInstance, type AdminContext } from './admin.js';
export { runScheduledBackup, type BackupSchedule } from './scheduled-backup.js';
export { systemModule } from './system.module.js';
