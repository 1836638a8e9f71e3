export { createBackup, type BackupOptions, type BackupReport } from './backup.js';
export { restoreBackup, type RestoreOptions, type RestoreReport } from './restore.js';
export { verifyArchive } from './archive.js';
export { backupErrors } from './backup.errors.js';
