import type { Config } from '../../config/index.js';
import type { Database } from '../../platform/db/index.js';
import type { Logger } from '../../platform/logger.js';
import type { AppModule } from '../../platform/module.js';
import type { VaultContext } from '../vault/index.js';
import { adminRoutes } from './admin.routes.js';
import { scheduleBackups } from './scheduled-backup.js';
import { systemRoutes } from './system.routes.js';

export interface SystemNeeds {
  config: Config;
  database: Database;
  vault: VaultContext;
  logger: Logger;
  /** Run scheduled backups here (roles all and scheduler; with INFINITY_BACKUP_SCHEDULE). */
  scheduler: boolean;
}

/**
 * Health, readiness and the instance's /internal routes (served in every role, API or not), and
 * scheduled backups.
 */
export function systemModule(n: SystemNeeds): AppModule & { drain(): void } {
  const { config, database } = n;
  let draining = false;
  const admin = { config, db: database.kysely, vault: n.vault, database };
  const backup = config.backup;
  return {
    name: 'system',
    drain: () => {
      draining = true;
    },
    routes: [systemRoutes({ db: database.kysely, info: database.info, draining: () => draining }), adminRoutes(admin)],
    services: backup.schedule && n.scheduler ? [scheduleBackups(admin, { pattern: backup.schedule, dir: backup.dir, keep: backup.keep }, n.logger)] : [],
  };
}
