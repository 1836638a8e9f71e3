import type { ColumnType, Generated } from 'kysely';

export interface WebhooksTable {
  id: string;
  org_id: string;
  url: string;
  events: string[];
  model: string | null;
  filter: ColumnType<Record<string, unknown> | null, string | null, string | null>;
  description: string | null;
  enabled: boolean;
  disabled_reason: string | null;
  secret_ciphertext: Buffer;
  secret_key_version: number;
  creator_kind: 'user' | 'apiKey';
  creator_user_id: string | null;
  creator_key_id: string | null;
  version: Generated<number>;
  last_success_at: Date | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'skipped';

export interface WebhookDeliveriesTable {
  id: string;
  webhook_id: string;
  org_id: string;
  event_id: string;
  event_type: string;
  /** The exact body sent on every attempt (so every attempt's signature covers the same bytes). */
  body: string;
  status: DeliveryStatus;
  attempts: Generated<number>;
  next_attempt_at: Date | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface WebhookAttemptsTable {
  id: Generated<string>;
  delivery_id: string;
  attempt: number;
  status_code: number | null;
  duration_ms: number;
  response_excerpt: string | null;
  error: string | null;
  at: Date;
}

export interface WebhookTables {
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
}
