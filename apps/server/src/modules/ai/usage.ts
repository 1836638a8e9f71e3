import { type Kysely, sql } from 'kysely';
import type { ColumnType } from 'kysely';
import { monthStart } from '../usage/index.js';

export interface AiUsageTable {
  id: ColumnType<string, never, never>;
  org_id: string;
  provider: string;
  model: string;
  kind: 'chat' | 'embedding';
  input_tokens: number;
  output_tokens: number;
  latency_ms: number;
  source: string | null;
  created_at: ColumnType<Date, never, never>;
}

export interface AiTables {
  ai_usage: AiUsageTable;
}

export interface UsageEntry {
  orgId: string;
  provider: string;
  model: string;
  kind: 'chat' | 'embedding';
  inputTokens: number;
  outputTokens: number;
  latencyMs: number;
  /** What made the call: "flow <id>", "agent <id>", "embeddings <model>". */
  source: string;
}

export async function recordUsage(db: Kysely<AiTables>, e: UsageEntry): Promise<void> {
  await db
    .insertInto('ai_usage')
    .values({
      org_id: e.orgId,
      provider: e.provider,
      model: e.model,
      kind: e.kind,
      input_tokens: e.inputTokens,
      output_tokens: e.outputTokens,
      latency_ms: Math.round(e.latencyMs),
      source: e.source,
    })
    .execute();
}

/** The month's totals, overall and per provider/model/kind. */
export async function monthUsage(db: Kysely<AiTables>, orgId: string) {
  const from = monthStart();
  const rows = await db
    .selectFrom('ai_usage')
    .select(['provider', 'model', 'kind'])
    .select([
      sql<string>`count(*)`.as('calls'),
      sql<string>`sum(input_tokens)`.as('input'),
      sql<string>`sum(output_tokens)`.as('output'),
      sql<string>`avg(latency_ms)`.as('latency'),
    ])
    .where('org_id', '=', orgId)
    .where('created_at', '>=', from)
    .groupBy(['provider', 'model', 'kind'])
    .orderBy('provider')
    .orderBy('model')
    .execute();
  const byModel = rows.map((r) => ({
    provider: r.provider,
    model: r.model,
    kind: r.kind,
    calls: Number(r.calls),
    inputTokens: Number(r.input),
    outputTokens: Number(r.output),
    avgLatencyMs: Math.round(Number(r.latency)),
  }));
  const sum = (k: 'calls' | 'inputTokens' | 'outputTokens') => byModel.reduce((a, r) => a + r[k], 0);
  const to = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + 1, 1));
  return {
    period: { from: from.toISOString(), to: to.toISOString() },
    calls: sum('calls'),
    inputTokens: sum('inputTokens'),
    outputTokens: sum('outputTokens'),
    byModel,
  };
}
