import type { ColumnType } from 'kysely';

/** jsonb: read as the value, written as its JSON text. */
type Json<T> = ColumnType<T, string, string>;

export interface OrgDataKeysTable {
  org_id: string;
  version: number;
  wrapped_key: Buffer;
  master_key_id: string;
  created_at: ColumnType<Date, never, never>;
}

export interface SecretsTable {
  id: string;
  org_id: string;
  name: string;
  provider: string;
  base_url: string | null;
  /** Hosts the secret may be sent to (vault.hosts.ts). */
  allowed_hosts: Json<string[]>;
  ciphertext: Buffer;
  data_key_version: number;
  hint: string;
  created_by: string | null;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface VaultTables {
  org_data_keys: OrgDataKeysTable;
  secrets: SecretsTable;
}
