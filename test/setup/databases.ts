import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrateToLatest, openDatabase } from '../../apps/server/src/platform/db/index.js';
import { adminUrl, testBackends, withDatabase } from '../../apps/server/src/platform/testing/backends.js';
import { startRun } from './run.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplate: string;
    postgresTemplate: string;
  }
}

/**
 * The integration lane's global setup: migrates one template per backend for the whole run, a
 * PGlite snapshot file (loading one takes ~1 s, initdb ~5–10 s) and a PostgreSQL template database
 * (CREATE DATABASE … TEMPLATE is fast). Every suite copies a fresh database from it (harness.ts).
 */
export default async function setup(project: TestProject) {
  const { runId, dropDatabases } = startRun(project);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'infinity-test-'));
  const backends = testBackends();

  let pgliteTemplate = '';
  if (backends.includes('pglite')) {
    const db = await openDatabase({ pgliteDataDir: 'memory://' });
    await migrateToLatest(db.kysely);
    const dump = await db.pglite!.dumpDataDir('gzip');
    pgliteTemplate = path.join(dir, 'pglite-template.tar.gz');
    writeFileSync(pgliteTemplate, Buffer.from(await dump.arrayBuffer()));
    await db.close();
  }
  project.provide('pgliteTemplate', pgliteTemplate);

  let postgresTemplate = '';
  if (backends.includes('postgres')) {
    postgresTemplate = `infinity_t_${runId}_tpl`;
    const admin = new pg.Client({ connectionString: adminUrl() });
    try {
      await admin.connect();
    } catch (err) {
      throw new Error(
        `The PostgreSQL test backend is not reachable at ${adminUrl()} (${(err as Error).message}). Start PostgreSQL, set INFINITY_TEST_PG_URL, or run with INFINITY_TEST_DATABASES=pglite.`,
      );
    }
    await admin.query(`create database "${postgresTemplate}"`);
    await admin.end();
    await withDatabase(postgresTemplate, async (url) => {
      const db = await openDatabase({ postgresUrl: url, poolSize: 1 });
      await migrateToLatest(db.kysely);
      await db.close();
    });
  }
  project.provide('postgresTemplate', postgresTemplate);

  return async () => {
    rmSync(dir, { recursive: true, force: true });
    await dropDatabases();
  };
}
