import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import readline from 'node:readline';
import pg from 'pg';
import { inject } from 'vitest';
import { adminUrl, urlFor } from '../../apps/server/src/platform/testing/backends.js';

export const CLI = path.resolve(import.meta.dirname, '../../apps/server/dist/cli.js');

export interface RunningServer {
  url: string;
  proc: ChildProcess;
  /** Everything the process wrote, stdout and stderr. */
  output: string[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `infinity start` as a user would and resolves when it logs that it is listening. */
export function startServer(args: string[], env: Record<string, string>): Promise<RunningServer> {
  const proc = spawn(process.execPath, [CLI, 'start', '--port', '0', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const onLine = (line: string) => {
      output.push(line);
      if (line.includes('"Infinity is listening"')) {
        const url = (JSON.parse(line) as { url: string }).url.replace('0.0.0.0', '127.0.0.1');
        resolve({
          url,
          proc,
          output,
          stop: async (signal = 'SIGTERM') => {
            proc.kill(signal);
            return exited;
          },
        });
      }
    };
    readline.createInterface({ input: proc.stdout }).on('line', onLine);
    readline.createInterface({ input: proc.stderr }).on('line', onLine);
    void exited.then((code) => reject(new Error(`server exited with ${code} before listening:\n${output.join('\n')}`)));
  });
}

export function runCli(args: string[], env: Record<string, string>): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/**
 * Environment for one e2e run: a fresh data folder, and on PostgreSQL a fresh database with the
 * keys that mode requires. `withKeys: false` leaves the keys out (to see start refuse).
 */
export async function e2eEnv(backend: 'pglite' | 'postgres', label: string, withKeys = true): Promise<Record<string, string>> {
  const env: Record<string, string> = { INFINITY_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), `infinity-e2e-${label}-`)), INFINITY_LOG_LEVEL: 'info' };
  if (backend === 'pglite') return env;
  const name = `infinity_t_${inject('runId')}_${label}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  env.DATABASE_URL = urlFor(name);
  if (withKeys) Object.assign(env, { INFINITY_MASTER_KEY: randomBytes(32).toString('base64'), INFINITY_JWT_SECRET: randomBytes(32).toString('hex') });
  return env;
}

/** Polls until `check` holds (a condition, not a fixed sleep); fails with `what` at the deadline. */
export async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 90_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
