import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type Config, type InstanceKeys, loadConfig, resolveInstanceKeys, type ConfigOverrides } from './config/index.js';
import { type Database, migrateToLatest, migrationStatus, openDatabase } from './platform/db/index.js';
import { createLogger, type Logger } from './platform/logger.js';

/** What every command needs: validated config, keys, a logger and an open, migrated database. */
export interface Runtime {
  config: Config;
  keys: InstanceKeys;
  logger: Logger;
  db: Database;
}

/** Prints "first start: creating the embedded database… 4s" while initdb runs (it takes seconds). */
function initdbProgress(dir: string): { start: () => void; stop: () => void } {
  let timer: NodeJS.Timeout | undefined;
  let began = 0;
  const tty = process.stderr.isTTY;
  return {
    start: () => {
      began = Date.now();
      process.stderr.write(`First start: creating the embedded PostgreSQL database in ${dir} (about 10 s, once)…${tty ? '' : '\n'}`);
      if (tty) {
        timer = setInterval(
          () => process.stderr.write(`\rFirst start: creating the embedded PostgreSQL database in ${dir}… ${Math.round((Date.now() - began) / 1000)}s`),
          500,
        );
      }
    },
    stop: () => {
      if (!began) return;
      if (timer) clearInterval(timer);
      process.stderr.write(`${tty ? '\r' : ''}Embedded database ready in ${((Date.now() - began) / 1000).toFixed(1)} s.${' '.repeat(40)}\n`);
    },
  };
}

export async function openRuntime(overrides: ConfigOverrides, opts: { migrate: boolean; logLevel?: string } = { migrate: true }): Promise<Runtime> {
  const config = loadConfig(process.env, overrides);
  const keys = resolveInstanceKeys(config);
  const logger = createLogger({ level: opts.logLevel ?? config.logLevel });
  const pgdata = path.join(config.dataDir, 'pgdata');
  const progress = initdbProgress(pgdata);
  const db = await openDatabase(
    config.database.kind === 'postgres'
      ? { postgresUrl: config.database.url, poolSize: config.database.poolSize }
      : { pgliteDataDir: pgdata, pgliteSettings: [`shared_buffers=${config.database.sharedBuffers}`], onInitdb: progress.start },
  );
  progress.stop();
  if (opts.migrate) {
    // Said first: a migration that rewrites model tables (0009 rebuilds their indexes, ~3.5 s per
    // 1,000 vectors of 1,536 dimensions in the embedded database) can take a while.
    const { pending } = await migrationStatus(db.kysely);
    if (pending.length) logger.info({ migrations: pending }, 'applying migrations');
    const applied = await migrateToLatest(db.kysely);
    if (applied.length) logger.info({ migrations: applied }, 'applied migrations');
  }
  return { config, keys, logger, db };
}

/** Written by a running embedded server so CLI commands can reach it instead of the locked database. */
export interface ServerFile {
  pid: number;
  url: string;
  token: string;
}

export function serverFilePath(dataDir: string): string {
  return path.join(dataDir, 'server.json');
}

export function writeServerFile(dataDir: string, info: ServerFile): void {
  writeFileSync(serverFilePath(dataDir), JSON.stringify(info), { mode: 0o600 });
}

export function removeServerFile(dataDir: string): void {
  rmSync(serverFilePath(dataDir), { force: true });
}

export function readLiveServerFile(dataDir: string): ServerFile | undefined {
  const file = serverFilePath(dataDir);
  if (!existsSync(file)) return undefined;
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as ServerFile;
    process.kill(info.pid, 0);
    return info;
  } catch {
    return undefined;
  }
}
