import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Cron } from 'croner';
import type { Logger } from '../../platform/logger.js';
import type { Service } from '../../platform/services.js';
import { type AdminContext, backupInstance } from './admin.js';

export interface BackupSchedule {
  /** Cron pattern (croner, with seconds optional), e.g. "0 3 * * *" for 03:00 every day. */
  pattern: string;
  dir: string;
  /** How many archives to keep; older ones are deleted after each successful backup. */
  keep: number;
}

const NAME = /^infinity-\d{8}T\d{6}Z\.backup$/;

/** One scheduled backup: a new archive in the folder, then the oldest beyond `keep` removed. */
export async function runScheduledBackup(ctx: AdminContext, s: BackupSchedule, now = new Date()): Promise<{ file: string; removed: string[] }> {
  mkdirSync(s.dir, { recursive: true, mode: 0o700 });
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const file = path.join(s.dir, `infinity-${stamp}.backup`);
  await backupInstance(ctx, { out: file });
  const all = readdirSync(s.dir)
    .filter((f) => NAME.test(f))
    .sort();
  const removed = all.slice(0, Math.max(0, all.length - s.keep));
  for (const f of removed) rmSync(path.join(s.dir, f), { force: true });
  return { file, removed };
}

/**
 * Backups on the schedule in this process (the scheduler role), as a service: the schedule begins
 * on start, not when the app is built; overlapping runs are skipped.
 */
export function scheduleBackups(ctx: AdminContext, s: BackupSchedule, logger: Logger): Service {
  let job: Cron | undefined;
  return {
    name: 'scheduled backups',
    start: () => {
      job ??= new Cron(s.pattern, { protect: true, timezone: 'UTC', mode: '5-or-6-parts' }, async () => {
        try {
          const r = await runScheduledBackup(ctx, s);
          logger.info({ file: r.file, removed: r.removed.length }, 'scheduled backup written');
        } catch (err) {
          logger.error({ err }, 'scheduled backup failed');
        }
      });
    },
    stop: () => job?.stop(),
  };
}
