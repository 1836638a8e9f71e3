import type { ColumnType } from 'kysely';

export interface AuditLogTable {
  id: string;
  org_id: string;
  seq: number;
  at: ColumnType<Date, string, never>;
  actor_type: string;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  details: ColumnType<Record<string, unknown>, string, never>;
  prev_hash: string;
  hash: string;
}

export interface AuditHeadsTable {
  org_id: string;
  seq: number;
  hash: string;
}

export interface AuditTables {
  audit_log: AuditLogTable;
  audit_heads: AuditHeadsTable;
}
