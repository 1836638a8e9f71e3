import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import type { LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, inject } from 'vitest';
import { type BuiltApp, buildApp } from '../../app.js';
import { type Config, type InstanceKeys, loadConfig, masterKeyFromBase64 } from '../../config/index.js';
import { type Database, openDatabase } from '../db/index.js';
import { createLogger } from '../logger.js';
import { type Backend, adminUrl, testBackends, urlFor } from './backends.js';

/** A fresh, migrated database of the given kind, copied from the run's template. */
export async function openTestDatabase(kind: Backend): Promise<Database & { url?: string }> {
  if (kind === 'pglite') {
    const file = inject('pgliteTemplate');
    const snapshot = new Blob([readFileSync(file)]);
    return openDatabase({ pgliteDataDir: 'memory://', pgliteSnapshot: snapshot });
  }
  const name = `infinity_t_${inject('runId')}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`create database "${name}" template "${inject('postgresTemplate')}"`);
  await admin.end();
  const url = urlFor(name);
  const db = await openDatabase({ postgresUrl: url, poolSize: 5 });
  return Object.assign(db, { url });
}

export function testKeys(): InstanceKeys {
  const mk = masterKeyFromBase64(randomBytes(32).toString('base64'), 'test');
  return { current: mk, all: [mk], jwtSecret: new TextEncoder().encode(randomBytes(32).toString('hex')) };
}

export interface Harness {
  kind: Backend;
  db: Database;
  built: BuiltApp;
  config: Config;
  keys: InstanceKeys;
  /** Every log line the app wrote, as text: tests assert that secrets never appear. */
  logs: string[];
  request(opts: {
    method: string;
    url: string;
    token?: string | undefined;
    apiKey?: string;
    headers?: Record<string, string>;
    body?: unknown;
    payload?: string | Buffer;
  }): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/**
 * A harness on a fresh test database, or on a given one with given keys (a restored backup). Its
 * app is started (workers, triggers, timers) as `infinity start` does, unless `opts.start` is false.
 */
export async function createHarness(
  kind: Backend,
  env: Record<string, string> = {},
  on?: { db: Database; keys: InstanceKeys },
  opts: { start?: boolean } = {},
): Promise<Harness> {
  const db = on?.db ?? (await openTestDatabase(kind));
  // Plans are tested on purpose (usage tests): elsewhere organizations have no limits.
  const config = loadConfig({ INFINITY_LOG_LEVEL: 'info', INFINITY_LOGIN_MAX_FAILURES: '5', INFINITY_DEFAULT_PLAN: 'enterprise', ...env });
  const keys = on?.keys ?? testKeys();
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString());
      cb();
    },
  });
  const logger = createLogger({ level: 'info', destination: sink });
  const built = await buildApp({ config, db, keys, logger, instanceToken: 'test-instance-token' });
  if (opts.start !== false) await built.start();
  return {
    kind,
    db,
    built,
    config,
    keys,
    logs,
    request: ({ method, url, token, apiKey, headers, body, payload }) =>
      built.app.inject({
        method: method as 'GET',
        url,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(apiKey ? { 'x-api-key': apiKey } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        ...(payload !== undefined ? { payload } : body !== undefined ? { payload: JSON.stringify(body) } : {}),
      }),
    close: async () => {
      await built.close();
      await db.close();
    },
  };
}

/**
 * One shared suite, run against every backend (PGlite and PostgreSQL): the same assertions
 * must hold on both, or the embedded mode is not the same product.
 */
export function describeEachDb(name: string, fn: (h: () => Harness) => void, env: Record<string, string> = {}): void {
  for (const kind of testBackends()) {
    describe(`${name} [${kind}]`, () => {
      let h: Harness | undefined;
      beforeAll(async () => {
        h = await createHarness(kind, env);
      });
      afterAll(async () => {
        await h?.close();
      });
      fn(() => {
        if (!h) throw new Error('harness not ready');
        return h;
      });
    });
  }
}
