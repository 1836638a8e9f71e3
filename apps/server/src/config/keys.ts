import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type Config, ConfigError } from './config.js';

/** A master key with its id: the first 16 hex digits of SHA-256 of the key, so ids need no config. */
export interface MasterKey {
  id: string;
  key: Buffer;
}

export interface InstanceKeys {
  /** The key new data keys are wrapped with. */
  current: MasterKey;
  /** Every key that may still unwrap (current first). */
  all: MasterKey[];
  jwtSecret: Uint8Array;
}

interface KeyFile {
  masterKeys: string[];
  jwtSecret: string;
}

export const KEY_FILE_NAME = 'keys.json';

export function masterKeyFromBase64(b64: string, source: string): MasterKey {
  const key = Buffer.from(b64.trim(), 'base64');
  if (key.length !== 32) {
    throw new ConfigError([`${source}: must be base64 of exactly 32 bytes (got ${key.length}); make one with: openssl rand -base64 32`]);
  }
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 16), key };
}

function readSecretFile(file: string, variable: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new ConfigError([`${variable}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
}

export function keyFilePath(dataDir: string): string {
  return path.join(dataDir, KEY_FILE_NAME);
}

/** Writes atomically with mode 0600: the file is never visible half-written or world-readable. */
export function writeKeyFile(dataDir: string, content: KeyFile): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = keyFilePath(dataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(content, null, 2), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

export function readKeyFile(dataDir: string): KeyFile | undefined {
  const file = keyFilePath(dataDir);
  if (!existsSync(file)) return undefined;
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<KeyFile>;
  if (!Array.isArray(parsed.masterKeys) || parsed.masterKeys.length === 0 || typeof parsed.jwtSecret !== 'string') {
    throw new ConfigError([`${file}: damaged key file (expected masterKeys[] and jwtSecret)`]);
  }
  return { masterKeys: parsed.masterKeys, jwtSecret: parsed.jwtSecret };
}

/**
 * Resolves the master key ring and the JWT key. Embedded mode generates both on first start
 * into DATA_DIR/keys.json (0600); with DATABASE_URL they must be given explicitly, because a
 * key generated on one API instance would be unknown to the others.
 */
export function resolveInstanceKeys(config: Config): InstanceKeys {
  const k = config.keys;
  const envMaster = k.masterKey ?? (k.masterKeyFile ? readSecretFile(k.masterKeyFile, 'INFINITY_MASTER_KEY_FILE') : undefined);
  const envJwt = k.jwtSecret ?? (k.jwtSecretFile ? readSecretFile(k.jwtSecretFile, 'INFINITY_JWT_SECRET_FILE') : undefined);

  let file: KeyFile | undefined;
  if (config.database.kind === 'pglite') {
    file = readKeyFile(config.dataDir);
    if (!file && (!envMaster || !envJwt)) {
      file = { masterKeys: [randomBytes(32).toString('base64')], jwtSecret: randomBytes(48).toString('base64url') };
      writeKeyFile(config.dataDir, file);
    }
  } else {
    const missing: string[] = [];
    if (!envMaster)
      missing.push(
        'INFINITY_MASTER_KEY (or INFINITY_MASTER_KEY_FILE) is required with DATABASE_URL: base64 of 32 random bytes, e.g. `openssl rand -base64 32`',
      );
    if (!envJwt) missing.push('INFINITY_JWT_SECRET (or INFINITY_JWT_SECRET_FILE) is required with DATABASE_URL: at least 32 random characters');
    if (missing.length) throw new ConfigError(missing);
  }
  if (envJwt !== undefined && envJwt.length < 32) throw new ConfigError(['INFINITY_JWT_SECRET: must be at least 32 characters']);

  const ring: MasterKey[] = [];
  const add = (mk: MasterKey) => {
    if (!ring.some((r) => r.id === mk.id)) ring.push(mk);
  };
  if (envMaster) add(masterKeyFromBase64(envMaster, 'INFINITY_MASTER_KEY'));
  file?.masterKeys.forEach((b64, i) => add(masterKeyFromBase64(b64, `${KEY_FILE_NAME} masterKeys[${i}]`)));
  k.previousMasterKeys.forEach((b64, i) => add(masterKeyFromBase64(b64, `INFINITY_MASTER_KEY_PREVIOUS[${i}]`)));
  const jwt = envJwt ?? file?.jwtSecret;
  if (!jwt || !ring[0]) throw new ConfigError(['keys: no master key or JWT secret could be resolved']);
  return { current: ring[0], all: ring, jwtSecret: new TextEncoder().encode(jwt) };
}
