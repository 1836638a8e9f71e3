import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, envSchema, loadConfig } from './config.js';
import { resolveInstanceKeys } from './keys.js';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'infinity-config-'));

describe('config', () => {
  it('has working defaults for the embedded mode', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 8080, host: '127.0.0.1', role: 'all', database: { kind: 'pglite' }, publicUrl: 'http://localhost:8080' });
    expect(c.dataDir).toBe(path.resolve('.infinity'));
  });

  it('command-line values win over the environment', () => {
    const c = loadConfig({ INFINITY_PORT: '9000' }, { port: 9100, dataDir: '/tmp/x', role: 'worker' });
    expect(c).toMatchObject({ port: 9100, dataDir: '/tmp/x', role: 'worker' });
  });

  it('names every bad value in one error', () => {
    let err: unknown;
    try {
      loadConfig({ INFINITY_PORT: 'eighty', DATABASE_URL: 'mysql://x', INFINITY_ROLE: 'boss', INFINITY_JWT_SECRET: 'short' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    for (const v of ['INFINITY_PORT', 'DATABASE_URL: must start with postgres://', 'INFINITY_ROLE', 'INFINITY_JWT_SECRET: must be at least 32'])
      expect(msg).toContain(v);
  });

  it('reads an optional JSON config file; the environment wins over it', () => {
    const dir = tmp();
    const file = path.join(dir, 'infinity.json');
    writeFileSync(file, JSON.stringify({ INFINITY_PORT: 7000, INFINITY_HOST: '0.0.0.0' }));
    const c = loadConfig({ INFINITY_CONFIG: file, INFINITY_PORT: '7001' });
    expect(c).toMatchObject({ port: 7001, host: '0.0.0.0' });
    expect(() => loadConfig({ INFINITY_CONFIG: path.join(dir, 'missing.json') })).toThrow(ConfigError);
  });

  it('embedded mode generates its keys once into the data folder with mode 0600', () => {
    const dir = tmp();
    const c = loadConfig({ INFINITY_DATA_DIR: dir });
    const k1 = resolveInstanceKeys(c);
    const file = path.join(dir, 'keys.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const k2 = resolveInstanceKeys(c);
    expect(k2.current.id).toBe(k1.current.id);
    expect(Buffer.from(k2.jwtSecret).equals(Buffer.from(k1.jwtSecret))).toBe(true);
    expect(JSON.parse(readFileSync(file, 'utf8')).masterKeys).toHaveLength(1);
  });

  it('PostgreSQL mode refuses to start without explicit keys, saying how to make them', () => {
    const c = loadConfig({ DATABASE_URL: 'postgres://localhost/x' });
    expect(() => resolveInstanceKeys(c)).toThrow(/INFINITY_MASTER_KEY[\s\S]*openssl rand -base64 32[\s\S]*INFINITY_JWT_SECRET/);
    const bad = loadConfig({ DATABASE_URL: 'postgres://localhost/x', INFINITY_MASTER_KEY: 'dG9vIHNob3J0', INFINITY_JWT_SECRET: 'x'.repeat(40) });
    expect(() => resolveInstanceKeys(bad)).toThrow(/exactly 32 bytes/);
    const good = loadConfig({
      DATABASE_URL: 'postgres://localhost/x',
      INFINITY_MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
      INFINITY_JWT_SECRET: 'x'.repeat(40),
    });
    expect(resolveInstanceKeys(good).all).toHaveLength(1);
  });

  it('docs/env.md documents every variable', () => {
    const doc = readFileSync(path.resolve(import.meta.dirname, '../../../../docs/env.md'), 'utf8');
    const missing = Object.keys(envSchema.shape).filter((k) => !doc.includes(`\`${k}\``));
    expect(missing).toEqual([]);
  });
});
