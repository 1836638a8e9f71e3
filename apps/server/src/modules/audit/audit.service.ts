import type { Kysely, Transaction } from 'kysely';
import { sha256Hex } from '../../platform/crypto/index.js';
import { newId } from '../../platform/ids.js';
import { type Actor, type OrgActor, actorLabel } from '../access/index.js';
import type { AuditTables } from './audit.tables.js';
import { type AuditRow, appendEntry, chainHeads, findEntries, lockHead, scanChain } from './audit.repo.js';
import { canonicalJson } from './canonical-json.js';
import { stringify as toCsv } from 'csv-stringify/sync';

/** The chain of instance-level events that belong to no organization (e.g. a login with an unknown email). */
export const INSTANCE_CHAIN = '00000000-0000-0000-0000-000000000000';
const GENESIS = sha256Hex('infinity-audit-genesis');

export interface AuditInput {
  orgId: string | null;
  actor: Actor | { kind: 'anonymous' };
  action: string;
  target?: { type: string; id: string };
  ip?: string;
  details?: Record<string, unknown>;
}

export interface AuditEntry {
  id: string;
  seq: number;
  at: string;
  actor: { type: string; id: string | null };
  action: string;
  target: { type: string; id: string } | null;
  ip: string | null;
  details: Record<string, unknown>;
  hash: string;
}

function entryHash(
  prevHash: string,
  e: {
    id: string;
    orgId: string;
    seq: number;
    at: string;
    actorType: string;
    actorId: string | null;
    action: string;
    targetType: string | null;
    targetId: string | null;
    ip: string | null;
    details: Record<string, unknown>;
  },
): string {
  return sha256Hex(`${prevHash}\n${canonicalJson(e)}`);
}

/**
 * Appends to the organization's chain inside the caller's transaction, so an audited change and
 * its entry commit or roll back together. NB: audit deliberately stays off the event spine and its
 * outbox (#26). The entry written here already has everything an outbox row would give (same
 * transaction, never lost, never after a rollback) and more: it is readable the moment the change
 * is answered, the chain's order is the commit order (lockHead serializes an organization's
 * writers), and most audited actions (logins, key views, secret reveals) are not domain events at
 * all. An outbox would add a copy, a drain and a window in which a committed change has no entry.
 */
export async function recordAudit<DB>(trx: Transaction<DB>, input: AuditInput): Promise<void> {
  const t = trx as unknown as Transaction<AuditTables>;
  const orgId = input.orgId ?? INSTANCE_CHAIN;
  const head = await lockHead(t, orgId, GENESIS);
  const who = input.actor.kind === 'anonymous' ? { type: 'anonymous', id: null } : actorLabel(input.actor);
  const e = {
    id: newId(),
    orgId,
    seq: head.seq + 1,
    at: new Date().toISOString(),
    actorType: who.type,
    actorId: who.id,
    action: input.action,
    targetType: input.target?.type ?? null,
    targetId: input.target?.id ?? null,
    ip: input.ip ?? null,
    details: input.details ?? {},
  };
  const hash = entryHash(head.hash, e);
  await appendEntry(t, {
    id: e.id,
    org_id: orgId,
    seq: e.seq,
    at: e.at,
    actor_type: e.actorType,
    actor_id: e.actorId,
    action: e.action,
    target_type: e.targetType,
    target_id: e.targetId,
    ip: e.ip,
    details: JSON.stringify(e.details),
    prev_hash: head.hash,
    hash,
  });
}

function toEntry(r: AuditRow): AuditEntry {
  return {
    id: r.id,
    seq: r.seq,
    at: r.at.toISOString(),
    actor: { type: r.actor_type, id: r.actor_id },
    action: r.action,
    target: r.target_type && r.target_id ? { type: r.target_type, id: r.target_id } : null,
    ip: r.ip,
    details: r.details,
    hash: r.hash,
  };
}

export async function listAudit(
  db: Kysely<object>,
  actor: OrgActor,
  q: { action?: string[]; actorId?: string; targetId?: string; from?: Date; to?: Date; limit: number; offset: number; beforeSeq?: number | undefined },
) {
  const { rows, total } = await findEntries(db as Kysely<AuditTables>, { ...q, limit: q.limit + 1, orgId: actor.orgId });
  const last = rows.length > q.limit ? rows[q.limit - 1] : undefined;
  // `next`: the seq the next page starts below (the route makes it meta.nextCursor).
  return { entries: rows.slice(0, q.limit).map(toEntry), total, next: last ? Number(last.seq) : null };
}

/** The most entries one export returns (narrow it with from/to/action for more). */
export const EXPORT_CAP = 100_000;

/**
 * The organization's audit log (filtered) as CSV or JSON, oldest first, for auditors and SIEMs.
 * Exporting is itself audited (AUDIT_EXPORT): the log is a sensitive read.
 */
export async function exportAudit(
  db: Kysely<object>,
  actor: OrgActor,
  q: { action?: string[]; actorId?: string; targetId?: string; from?: Date; to?: Date },
  format: 'csv' | 'json',
  ip: string,
): Promise<{ body: string; count: number }> {
  const entries: AuditEntry[] = [];
  // Pages by seq (keyset), not offset: entries appended meanwhile neither shift nor repeat a page.
  let beforeSeq: number | undefined;
  while (entries.length < EXPORT_CAP) {
    const limit = Math.min(1000, EXPORT_CAP - entries.length);
    const { rows } = await findEntries(db as Kysely<AuditTables>, { ...q, orgId: actor.orgId, limit, offset: 0, beforeSeq });
    entries.push(...rows.map(toEntry));
    if (rows.length < limit) break;
    beforeSeq = Number(rows[rows.length - 1]!.seq);
  }
  entries.reverse();
  await db.transaction().execute((trx) =>
    recordAudit(trx, {
      orgId: actor.orgId,
      actor,
      action: 'AUDIT_EXPORT',
      ip,
      details: { format, count: entries.length, filters: { ...q, from: q.from?.toISOString(), to: q.to?.toISOString() } },
    }),
  );
  if (format === 'json') return { body: JSON.stringify(entries), count: entries.length };
  const header = ['seq', 'at', 'action', 'actor_type', 'actor_id', 'target_type', 'target_id', 'ip', 'details', 'hash'];
  const lines = entries.map((e) => [
    e.seq,
    e.at,
    e.action,
    e.actor.type,
    e.actor.id ?? '',
    e.target?.type ?? '',
    e.target?.id ?? '',
    e.ip ?? '',
    JSON.stringify(e.details),
    e.hash,
  ]);
  return { body: toCsv([header, ...lines]), count: entries.length };
}

export interface VerifyReport {
  ok: boolean;
  chains: number;
  entries: number;
  problems: { orgId: string; seq: number; problem: string }[];
}

/**
 * Recomputes every chain: contiguous sequence numbers, each entry's hash over its content and
 * its predecessor's hash, and the head (which catches entries deleted from the end).
 */
export async function verifyAuditChain(db: Kysely<object>, orgId?: string): Promise<VerifyReport> {
  const adb = db as Kysely<AuditTables>;
  const report: VerifyReport = { ok: true, chains: 0, entries: 0, problems: [] };
  for (const head of await chainHeads(adb, orgId)) {
    report.chains++;
    let prev = GENESIS;
    let expected = 1;
    for await (const r of scanChain(adb, head.org_id)) {
      report.entries++;
      if (r.seq !== expected) report.problems.push({ orgId: head.org_id, seq: expected, problem: `entry missing (next present is ${r.seq})` });
      if (r.prev_hash !== prev) report.problems.push({ orgId: head.org_id, seq: r.seq, problem: 'link to the previous entry is broken' });
      const e = toEntry(r);
      const recomputed = entryHash(r.prev_hash, {
        id: r.id,
        orgId: r.org_id,
        seq: r.seq,
        at: e.at,
        actorType: r.actor_type,
        actorId: r.actor_id,
        action: r.action,
        targetType: r.target_type,
        targetId: r.target_id,
        ip: r.ip,
        details: r.details,
      });
      if (recomputed !== r.hash) report.problems.push({ orgId: head.org_id, seq: r.seq, problem: 'content does not match its hash (entry altered)' });
      prev = r.hash;
      expected = r.seq + 1;
    }
    if (head.seq !== expected - 1 || head.hash !== prev) {
      report.problems.push({ orgId: head.org_id, seq: head.seq, problem: `chain ends at ${expected - 1} but its head records ${head.seq} (entries removed)` });
    }
  }
  report.ok = report.problems.length === 0;
  return report;
}
