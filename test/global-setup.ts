import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrateToLatest, openDatabase } from '../apps/server/src/platform/db/index.js';
import { adminUrl, testBackends, withDatabase } from '../apps/server/src/platform/testing/backends.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplate: string;
    postgresTemplate: string;
    runId: string;
  }
}

/**
 * Migrates one template per backend for the whole run: a PGlite snapshot file (loading one takes
 * ~1 s, initdb ~5–10 s) and a PostgreSQL template database (CREATE DATABASE … TEMPLATE is fast).
 */
export default async function setup(project: TestProject) {
  const runId = `${Date.now().toString(36)}${process.pid}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'infinity-test-'));
  const backends = testBackends();
  project.provide('runId', runId);

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
    if (backends.includes('postgres')) {
      const admin = new pg.Client({ connectionString: adminUrl() });
      await admin.connect();
      const { rows } = await admin.query<{ datname: string }>(`select datname from pg_database where datname like $1`, [`infinity_t_${runId}_%`]);
      for (const r of rows) await admin.query(`drop database if exists "${r.datname}" with (force)`);
      await admin.end();
    }
  };
}
