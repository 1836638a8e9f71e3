import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { adminUrl, testBackends } from '../../apps/server/src/platform/testing/backends.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Names this run's PostgreSQL databases (`infinity_t_<runId>_…`), so teardown drops them all and no other run's. */
    runId: string;
  }
}

/** A run id for database names, and the teardown that drops every PostgreSQL database of the run. */
export function startRun(project: TestProject): { runId: string; dropDatabases: () => Promise<void> } {
  // The project's name keeps two lanes started in the same millisecond apart.
  const runId = `${Date.now().toString(36)}${process.pid}${project.name.replace(/[^a-z]/g, '').slice(0, 3)}`;
  project.provide('runId', runId);
  return {
    runId,
    dropDatabases: async () => {
      if (!testBackends().includes('postgres')) return;
      const admin = new pg.Client({ connectionString: adminUrl() });
      await admin.connect();
      const { rows } = await admin.query<{ datname: string }>(`select datname from pg_database where datname like $1`, [`infinity_t_${runId}_%`]);
      for (const r of rows) await admin.query(`drop database if exists "${r.datname}" with (force)`);
      await admin.end();
    },
  };
}
