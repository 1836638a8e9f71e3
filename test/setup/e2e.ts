import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startRun } from './run.js';

const root = path.resolve(import.meta.dirname, '../..');

/** The newest modification time under the given files and folders (0 when none exists). */
function newest(paths: string[]): number {
  let max = 0;
  const visit = (p: string) => {
    if (!existsSync(p)) return;
    const s = statSync(p);
    if (s.isDirectory()) for (const e of readdirSync(p)) visit(path.join(p, e));
    else max = Math.max(max, s.mtimeMs);
  };
  for (const p of paths) visit(path.join(root, p));
  return max;
}

function run(what: string, command: string, args: string[]): void {
  // NB: not Vitest's NODE_ENV=test: vite would bundle React's development build (StrictMode then
  // runs effects twice, and the UI tests see a UI no user gets).
  const r = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } });
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}): the e2e lane runs the built server and UI.`);
}

/**
 * The e2e lane starts the built `infinity` command and serves the built UI, so it builds what is
 * out of date first: the server and its packages incrementally (tsc -b: ~0.5 s when nothing
 * changed), the UI when a source of it is newer than its bundle.
 */
function buildWhatIsStale(): void {
  const require = createRequire(import.meta.url);
  run('tsc -b apps/server', process.execPath, [require.resolve('typescript/bin/tsc'), '-b', 'apps/server/tsconfig.json']);
  const bundle = path.join(root, 'apps/web/dist/.vite/manifest.json');
  const sources = newest([
    'apps/web/src',
    'apps/web/public',
    'apps/web/index.html',
    'apps/web/vite.config.ts',
    'apps/web/package.json',
    'packages/contracts/dist',
  ]);
  if (!existsSync(bundle) || statSync(bundle).mtimeMs < sources) run('the web build', 'npm', ['run', 'build', '--silent', '--workspace', 'apps/web']);
}

export default function setup(project: TestProject) {
  buildWhatIsStale();
  const { dropDatabases } = startRun(project);
  return dropDatabases;
}
