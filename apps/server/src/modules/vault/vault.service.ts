import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { inTransaction, isUniqueViolation } from '../../platform/db/index.js';
import { open, seal } from '../../platform/crypto/index.js';
import { newId } from '../../platform/ids.js';
import { type OrgActor, actorLabel, actorUserId } from '../access/index.js';
import { recordAudit } from '../audit/index.js';
import type { Keyring } from './keyring.js';
import { HOSTS_REQUIRED, baseUrlHost, defaultAllowedHosts } from './vault.hosts.js';
import { vaultErrors } from './vault.errors.js';
import * as repo from './vault.repo.js';
import type { VaultTables } from './vault.tables.js';

export const PROVIDERS = ['openai', 'anthropic', 'google', 'openai-compatible', 'stripe', 'github', 'slack', 'smtp', 'generic'] as const;
export type Provider = (typeof PROVIDERS)[number];

export interface VaultContext {
  db: Kysely<VaultTables>;
  keyring: Keyring;
  /** Unwrapped data keys by "org:version". Rotation re-wraps them, so cached keys stay valid. */
  dataKeys: Map<string, Buffer>;
}

export function createVaultContext(db: Kysely<object>, keyring: Keyring): VaultContext {
  return { db: db as Kysely<VaultTables>, keyring, dataKeys: new Map() };
}

const dekAad = (orgId: string, version: number) => `infinity:dek:${orgId}:${version}`;
const secretAad = (orgId: string, secretId: string) => `infinity:secret:${orgId}:${secretId}`;

/** `sk-…9f2c`: enough to recognise a key, never enough to use it. */
export function maskHint(value: string): string {
  if (value.length >= 16) return `${value.slice(0, 3)}…${value.slice(-4)}`;
  if (value.length >= 8) return `…${value.slice(-2)}`;
  return '…';
}

async function unwrap(ctx: VaultContext, row: { org_id: string; version: number; wrapped_key: Buffer; master_key_id: string }): Promise<Buffer> {
  const cacheKey = `${row.org_id}:${row.version}`;
  const hit = ctx.dataKeys.get(cacheKey);
  if (hit) return hit;
  const master = ctx.keyring.find(row.master_key_id);
  if (!master) throw vaultErrors.VAULT_KEY_UNAVAILABLE(`The master key ${row.master_key_id} is not configured on this instance.`);
  let key: Buffer;
  try {
    key = open(master.key, row.wrapped_key, dekAad(row.org_id, row.version));
  } catch {
    throw vaultErrors.VAULT_DECRYPT_FAILED('An organization data key could not be unwrapped.');
  }
  ctx.dataKeys.set(cacheKey, key);
  return key;
}

/** The organization's current data key, created on first use. */
async function currentDataKey(ctx: VaultContext, orgId: string): Promise<{ version: number; key: Buffer }> {
  let row = await repo.latestDataKey(ctx.db, orgId);
  if (!row) {
    const master = ctx.keyring.current;
    const fresh = randomBytes(32);
    await repo.insertDataKey(ctx.db, { org_id: orgId, version: 1, wrapped_key: seal(master.key, fresh, dekAad(orgId, 1)), master_key_id: master.id });
    row = await repo.latestDataKey(ctx.db, orgId);
    if (!row) throw new Error('data key vanished after insert');
  }
  return { version: row.version, key: await unwrap(ctx, row) };
}

type SecretRow = Awaited<ReturnType<typeof repo.insertSecret>>;
export function toSecret(r: SecretRow) {
  return {
    id: r.id,
    name: r.name,
    provider: r.provider as Provider,
    baseUrl: r.base_url,
    allowedHosts: r.allowed_hosts,
    hint: r.hint,
    createdBy: r.created_by,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}
export type SecretDto = ReturnType<typeof toSecret>;

function nameTaken(err: unknown): never {
  if (isUniqueViolation(err)) throw vaultErrors.VAULT_SECRET_NAME_TAKEN();
  throw err;
}

export async function createSecret(
  ctx: VaultContext,
  actor: OrgActor,
  input: { name: string; provider: Provider; value: string; baseUrl?: string | undefined; allowedHosts?: string[] | undefined },
  ip: string,
): Promise<SecretDto> {
  if (!input.allowedHosts && HOSTS_REQUIRED.has(input.provider)) {
    throw vaultErrors.VAULT_SECRET_HOSTS_REQUIRED(
      'A generic secret must name the hosts it may be sent to: allowedHosts, e.g. ["api.example.com"], or [] for a secret that is never sent (a webhook signing secret).',
      [{ field: 'allowedHosts', message: 'required for generic secrets' }],
    );
  }
  const allowedHosts = input.allowedHosts ?? defaultAllowedHosts(input.provider, input.baseUrl);
  const dek = await currentDataKey(ctx, actor.orgId);
  const id = newId();
  return inTransaction(ctx.db, async ({ trx }) => {
    const row = await repo.insertSecret(trx, {
      id,
      org_id: actor.orgId,
      name: input.name,
      provider: input.provider,
      base_url: input.baseUrl ?? null,
      allowed_hosts: allowedHosts,
      ciphertext: seal(dek.key, Buffer.from(input.value, 'utf8'), secretAad(actor.orgId, id)),
      data_key_version: dek.version,
      hint: maskHint(input.value),
      created_by: actorUserId(actor),
    });
    await recordAudit(trx, {
      orgId: actor.orgId,
      actor,
      action: 'SECRET_CREATE',
      target: { type: 'secret', id },
      ip,
      details: { name: input.name, provider: input.provider, allowedHosts },
    });
    return toSecret(row);
  }).catch(nameTaken);
}

export async function listSecrets(ctx: VaultContext, actor: OrgActor, limit: number, offset: number): Promise<SecretDto[]> {
  return (await repo.listSecrets(ctx.db, actor.orgId, limit, offset)).map(toSecret);
}

export const countSecrets = (ctx: VaultContext, actor: OrgActor): Promise<number> => repo.countSecrets(ctx.db, actor.orgId);

export async function getSecret(ctx: VaultContext, actor: OrgActor, id: string): Promise<SecretDto> {
  const row = await repo.findSecret(ctx.db, actor.orgId, id);
  if (!row) throw vaultErrors.VAULT_SECRET_NOT_FOUND();
  return toSecret(row);
}

export async function updateSecret(
  ctx: VaultContext,
  actor: OrgActor,
  id: string,
  patch: { name?: string | undefined; value?: string | undefined; baseUrl?: string | null | undefined; allowedHosts?: string[] | undefined },
  ip: string,
): Promise<SecretDto> {
  const dek = patch.value !== undefined ? await currentDataKey(ctx, actor.orgId) : undefined;
  return inTransaction(ctx.db, async ({ trx }) => {
    let allowedHosts = patch.allowedHosts;
    // An admin who points a secret at a new base URL sends it there: that host joins the list,
    // unless the same request sets the list itself.
    const newHost = baseUrlHost(patch.baseUrl);
    if (allowedHosts === undefined && newHost) {
      const current = await repo.findSecret(trx, actor.orgId, id);
      if (current && !current.allowed_hosts.includes(newHost)) allowedHosts = [...current.allowed_hosts, newHost];
    }
    const row = await repo.updateSecret(trx, actor.orgId, id, {
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.baseUrl !== undefined ? { base_url: patch.baseUrl } : {}),
      ...(allowedHosts !== undefined ? { allowed_hosts: allowedHosts } : {}),
      ...(dek && patch.value !== undefined
        ? {
            ciphertext: seal(dek.key, Buffer.from(patch.value, 'utf8'), secretAad(actor.orgId, id)),
            data_key_version: dek.version,
            hint: maskHint(patch.value),
          }
        : {}),
    });
    if (!row) throw vaultErrors.VAULT_SECRET_NOT_FOUND();
    const fields = Object.keys(patch).filter((k) => patch[k as keyof typeof patch] !== undefined);
    await recordAudit(trx, {
      orgId: actor.orgId,
      actor,
      action: 'SECRET_UPDATE',
      target: { type: 'secret', id },
      ip,
      details: { fields, ...(allowedHosts !== undefined ? { allowedHosts } : {}) },
    });
    return toSecret(row);
  }).catch(nameTaken);
}

export async function deleteSecret(ctx: VaultContext, actor: OrgActor, id: string, ip: string): Promise<void> {
  await inTransaction(ctx.db, async ({ trx }) => {
    const row = await repo.deleteSecret(trx, actor.orgId, id);
    if (!row) throw vaultErrors.VAULT_SECRET_NOT_FOUND();
    await recordAudit(trx, { orgId: actor.orgId, actor, action: 'SECRET_DELETE', target: { type: 'secret', id }, ip, details: { name: row.name } });
  });
}

/**
 * Decrypts a secret for use by server-side code (a node calling a provider). Never exposed over
 * HTTP. Every use is audited with its purpose; the value must not be logged or stored by the caller.
 */
export interface RevealedSecret {
  id: string;
  name: string;
  value: string;
  provider: Provider;
  baseUrl: string | null;
  /** Where the value may be sent: callers that send it check with assertHostAllowed (or use secretUse). */
  allowedHosts: string[];
}

export async function revealSecret(ctx: VaultContext, actor: OrgActor, id: string, purpose: string): Promise<RevealedSecret> {
  const row = await repo.findSecretWithCiphertext(ctx.db, actor.orgId, id);
  if (!row) throw vaultErrors.VAULT_SECRET_NOT_FOUND();
  const keyRow = await repo.dataKey(ctx.db, actor.orgId, row.data_key_version);
  if (!keyRow) throw vaultErrors.VAULT_DECRYPT_FAILED();
  const key = await unwrap(ctx, keyRow);
  let value: string;
  try {
    value = open(key, row.ciphertext, secretAad(actor.orgId, id)).toString('utf8');
  } catch {
    throw vaultErrors.VAULT_DECRYPT_FAILED();
  }
  await inTransaction(ctx.db, ({ trx }) =>
    recordAudit(trx, { orgId: actor.orgId, actor, action: 'SECRET_USE', target: { type: 'secret', id }, details: { purpose, by: actorLabel(actor).type } }),
  );
  return { id, name: row.name, value, provider: row.provider as Provider, baseUrl: row.base_url, allowedHosts: row.allowed_hosts };
}

export interface RotationReport {
  masterKeyId: string;
  rewrapped: number;
  retiredKeyIds: string[];
}

/**
 * Re-wraps every organization data key under the keyring's current master key, in small
 * transactions, so the server keeps serving: secrets are untouched (their data keys do not
 * change) and a data key is readable under its old or new wrapping at every moment.
 */
export async function rewrapAllDataKeys(ctx: VaultContext, onProgress?: (done: number) => void): Promise<RotationReport> {
  const current = ctx.keyring.current;
  let rewrapped = 0;
  for (;;) {
    const batch = await repo.keysNotWrappedBy(ctx.db, current.id, 100);
    if (batch.length === 0) break;
    await inTransaction(ctx.db, async ({ trx }) => {
      for (const row of batch) {
        const key = await unwrap(ctx, row);
        await repo.rewrap(trx, row.org_id, row.version, seal(current.key, key, dekAad(row.org_id, row.version)), current.id);
      }
    });
    rewrapped += batch.length;
    onProgress?.(rewrapped);
  }
  const inUse = await repo.masterKeyIdsInUse(ctx.db);
  return { masterKeyId: current.id, rewrapped, retiredKeyIds: ctx.keyring.ids().filter((id) => !inUse.includes(id)) };
}

const sealedAad = (orgId: string, purpose: string) => `infinity:sealed:${orgId}:${purpose}`;

/** A value another module keeps encrypted itself (a webhook's signing secret), with the data key version that opens it. */
export interface SealedValue {
  ciphertext: Buffer;
  keyVersion: number;
}

/**
 * Seals a value with the organization's current data key, as secrets are (AES-256-GCM; key
 * rotation re-wraps the data key, so the value stays readable). `purpose` (e.g. "webhook:<id>")
 * binds the ciphertext to its owner: it opens only with the same purpose.
 */
export async function sealForOrg(ctx: VaultContext, orgId: string, purpose: string, value: string): Promise<SealedValue> {
  const dek = await currentDataKey(ctx, orgId);
  return { ciphertext: seal(dek.key, Buffer.from(value, 'utf8'), sealedAad(orgId, purpose)), keyVersion: dek.version };
}

/** Opens what sealForOrg sealed (server-side use only; the value is never logged or returned). */
export async function openForOrg(ctx: VaultContext, orgId: string, purpose: string, sealed: SealedValue): Promise<string> {
  const keyRow = await repo.dataKey(ctx.db, orgId, sealed.keyVersion);
  if (!keyRow) throw vaultErrors.VAULT_DECRYPT_FAILED();
  const key = await unwrap(ctx, keyRow);
  try {
    return open(key, sealed.ciphertext, sealedAad(orgId, purpose)).toString('utf8');
  } catch {
    throw vaultErrors.VAULT_DECRYPT_FAILED();
  }
}
