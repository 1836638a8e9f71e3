import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { type Config, masterKeyFromBase64, readKeyFile, writeKeyFile } from '../../config/index.js';
import { type Database, inTransaction } from '../../platform/db/index.js';
import { type BackupReport, type RestoreReport, createBackup, restoreBackup } from '../backup/index.js';
import { VERSION } from '../../version.js';
import { SYSTEM_ACTOR } from '../access/index.js';
import { recordAudit, verifyAuditChain, type VerifyReport } from '../audit/index.js';
import { type RotationReport, type VaultContext, rewrapAllDataKeys } from '../vault/index.js';

/**
 * Instance operations shared by the CLI (run directly on the database) and the running server
 * (the CLI forwards to it when the embedded database is held by the server process).
 */
export interface AdminContext {
  config: Config;
  db: Kysely<object>;
  vault: VaultContext;
  /** The database itself (backups read it in one snapshot and need its kind). */
  database: Database;
}

/**
 * Embedded mode: generates a new master key, makes it current in the key file (the old one stays
 * until nothing is wrapped by it), and re-wraps every data key. With DATABASE_URL the new key is
 * given by the operator (INFINITY_MASTER_KEY, with the old one in INFINITY_MASTER_KEY_PREVIOUS)
 * and this re-wraps everything under it.
 */
export async function rotateMasterKey(ctx: AdminContext, onProgress?: (done: number) => void): Promise<RotationReport> {
  if (ctx.config.database.kind === 'pglite' && !ctx.config.keys.masterKey && !ctx.config.keys.masterKeyFile) {
    const file = readKeyFile(ctx.config.dataDir);
    if (!file) throw new Error('no key file in the data folder');
    const fresh = randomBytes(32).toString('base64');
    writeKeyFile(ctx.config.dataDir, { ...file, masterKeys: [fresh, ...file.masterKeys] });
    ctx.vault.keyring.promote(masterKeyFromBase64(fresh, 'new master key'));
  }
  const report = await rewrapAllDataKeys(ctx.vault, onProgress);
  if (ctx.config.database.kind === 'pglite' && report.retiredKeyIds.length) {
    const file = readKeyFile(ctx.config.dataDir);
    if (file) {
      const keep = file.masterKeys.filter((b64) => !report.retiredKeyIds.includes(masterKeyFromBase64(b64, 'key file').id));
      writeKeyFile(ctx.config.dataDir, { ...file, masterKeys: keep });
    }
  }
  await inTransaction(ctx.db, ({ trx }) =>
    recordAudit(trx, { orgId: null, actor: SYSTEM_ACTOR, action: 'KEYS_ROTATE', details: { masterKeyId: report.masterKeyId, rewrapped: report.rewrapped } }),
  );
  return report;
}

export function verifyAudit(ctx: AdminContext, orgId?: string): Promise<VerifyReport> {
  return verifyAuditChain(ctx.db, orgId);
}

/** `infinity backup`: a consistent archive of the instance or one organization; audited as BACKUP_CREATE. */
export async function backupInstance(
  ctx: AdminContext,
  o: { out: string; orgId?: string | undefined; onProgress?: (done: number, total: number) => void },
): Promise<BackupReport> {
  const report = await createBackup(ctx.database, { ...o, infinityVersion: VERSION });
  await inTransaction(ctx.db, ({ trx }) =>
    recordAudit(trx, {
      orgId: o.orgId ?? null,
      actor: SYSTEM_ACTOR,
      action: 'BACKUP_CREATE',
      details: { file: o.out, rows: report.rows, tables: report.tables, sha256: report.sha256 },
    }),
  );
  return report;
}

/** `infinity restore`: verified first, written in one transaction; audited as BACKUP_RESTORE on the instance chain. */
export async function restoreInstance(ctx: AdminContext, file: string, onProgress?: (done: number, total: number) => void): Promise<RestoreReport> {
  const report = await restoreBackup(ctx.database, { file, ...(onProgress ? { onProgress } : {}) });
  await inTransaction(ctx.db, ({ trx }) =>
    recordAudit(trx, {
      orgId: null,
      actor: SYSTEM_ACTOR,
      action: 'BACKUP_RESTORE',
      details: { file, rows: report.rows, organizations: report.organizations, scope: report.scope, source: report.source },
    }),
  );
  return report;
}
