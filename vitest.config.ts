import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * Four lanes, each runnable alone (`npm run test:<lane>`, or `npx vitest run --project <lane>`);
 * `npm test` runs them all.
 *   unit         server and package tests that touch no database: no build, no global setup
 *   integration  the suites that reach a database, on PGlite and PostgreSQL (migrated templates)
 *   e2e          the built `infinity` command as a process, and the UI in chromium (builds first)
 *   web          the UI's component tests (jsdom)
 */
const root = import.meta.dirname;

function testFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && e.name !== 'dist') walk(full);
      } else if (/\.test\.tsx?$/.test(e.name)) out.push(path.relative(root, full).split(path.sep).join('/'));
    }
  };
  walk(path.join(root, dir));
  return out.sort();
}

/**
 * A test reaches a database when it imports the test harness (platform/testing/harness.ts:
 * describeEachDb, createHarness, openTestDatabase) or the test backends, or opens a database itself
 * (PGlite too: loading one costs a second or more). Those need the migrated
 * templates of the integration lane. Everything else is a unit test. Decided by reading the file,
 * so a new test lands in the right lane without a list to keep.
 */
const DATABASE = /\/testing\/(harness|backends)(\.js)?['"]|\bopenDatabase\(|\bopenTestDatabase\(|\binject\('(pgliteTemplate|postgresTemplate|runId)'\)/;
const serverTests = ['apps/server/src', 'packages/contracts/src', 'packages/node-sdk/src', 'test/unit'].flatMap(testFiles);
const integrationTests = serverTests.filter((f) => DATABASE.test(readFileSync(path.join(root, f), 'utf8')));
const unitTests = serverTests.filter((f) => !integrationTests.includes(f));

export default defineConfig({
  resolve: {
    // Tests run the workspace packages from source, so a change in them needs no build to be tested.
    alias: [
      { find: /^@infinity\/(contracts|node-sdk)$/, replacement: `${root}/packages/$1/src/index.ts` },
      { find: /^@infinity\/(contracts|node-sdk)\/([a-z-]+)$/, replacement: `${root}/packages/$1/src/$2.ts` },
    ],
  },
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: two files at a time keeps PGlite loads and Argon2 from starving each other.
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'unit', include: unitTests } },
      { extends: true, test: { name: 'integration', include: integrationTests, globalSetup: ['./test/setup/databases.ts'] } },
      {
        extends: true,
        // The integrations (n8n nodes, Zapier and Make apps) are tested against the built server, started as a user starts it.
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts', 'packages/n8n-nodes-infinity/test/**/*.test.ts', 'integrations/*/test/**/*.test.ts'],
          globalSetup: ['./test/setup/e2e.ts'],
        },
      },
      { extends: true, test: { name: 'web', include: ['apps/web/src/**/*.test.{ts,tsx}'], environment: 'jsdom' } },
    ],
  },
});
