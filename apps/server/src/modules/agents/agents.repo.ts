import type { ColumnType, Kysely, Transaction } from 'kysely';
import type { AgentTool } from './agents.schemas.js';

type Json<T> = ColumnType<T, string, string>;

export interface AgentsTable {
  id: string;
  org_id: string;
  name: string;
  description: string;
  provider: 'openai' | 'anthropic' | 'google' | 'openai-compatible';
  model: string;
  secret_id: string;
  system: string;
  personality: Json<{ empathy: number; confidence: number; style: string }>;
  voice: ColumnType<Record<string, unknown> | null, string | null, string | null>;
  memory: 'session' | 'long_term';
  memory_tokens: number;
  tools: Json<AgentTool[]>;
  max_steps: number;
  temperature: number | null;
  status: 'active' | 'paused';
  slug: string | null;
  created_by: string | null;
  /** Raised by every change; the ETag (0012). */
  version: ColumnType<number, never, number>;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface ConversationsTable {
  id: string;
  org_id: string;
  agent_id: string;
  participant: string;
  title: string;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface AgentMessagesTable {
  id: string;
  conversation_id: string;
  agent_id: string;
  org_id: string;
  role: 'user' | 'assistant' | 'tool';
  content: string;
  tool: ColumnType<{ id: string; name: string; input: unknown; output: unknown; error?: string } | null, string | null, never>;
  usage: ColumnType<{ inputTokens: number; outputTokens: number } | null, string | null, never>;
  embedding: ColumnType<number[] | null, string | null, never>;
  created_at: ColumnType<Date, never, never>;
}

export interface AgentTables {
  agents: AgentsTable;
  conversations: ConversationsTable;
  agent_messages: AgentMessagesTable;
}

export type Exec = Kysely<AgentTables> | Transaction<AgentTables>;
export const agentColumns = [
  'id',
  'org_id',
  'name',
  'description',
  'provider',
  'model',
  'secret_id',
  'system',
  'personality',
  'voice',
  'memory',
  'memory_tokens',
  'tools',
  'max_steps',
  'temperature',
  'status',
  'slug',
  'created_by',
  'version',
  'created_at',
  'updated_at',
] as const;

export function findAgent(db: Exec, orgId: string, id: string) {
  return db.selectFrom('agents').select(agentColumns).where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
}
export type AgentRow = NonNullable<Awaited<ReturnType<typeof findAgent>>>;

/** The agent row, locked until the transaction ends: a write checks its If-Match against it. */
export function lockAgent(trx: Transaction<AgentTables>, orgId: string, id: string) {
  return trx.selectFrom('agents').select(agentColumns).where('org_id', '=', orgId).where('id', '=', id).forUpdate().executeTakeFirst();
}

export function findAgentBySlug(db: Exec, slug: string) {
  return db.selectFrom('agents').select(agentColumns).where('slug', '=', slug).executeTakeFirst();
}

export function listAgents(db: Exec, orgId: string, limit: number, offset: number) {
  return db.selectFrom('agents').select(agentColumns).where('org_id', '=', orgId).orderBy('created_at', 'desc').limit(limit).offset(offset).execute();
}

export function findConversation(db: Exec, agentId: string, id: string) {
  return db.selectFrom('conversations').selectAll().where('agent_id', '=', agentId).where('id', '=', id).executeTakeFirst();
}

export async function countAgents(db: Exec, orgId: string): Promise<number> {
  return Number(
    (
      await db
        .selectFrom('agents')
        .select((e) => e.fn.countAll<string>().as('n'))
        .where('org_id', '=', orgId)
        .executeTakeFirstOrThrow()
    ).n,
  );
}

/** How many messages listMessages pages through (meta.total). */
export async function countMessages(db: Exec, conversationId: string): Promise<number> {
  return Number(
    (
      await db
        .selectFrom('agent_messages')
        .select((e) => e.fn.countAll<string>().as('n'))
        .where('conversation_id', '=', conversationId)
        .executeTakeFirstOrThrow()
    ).n,
  );
}

export function listMessages(db: Exec, conversationId: string, limit: number, offset: number) {
  return db
    .selectFrom('agent_messages')
    .select(['id', 'role', 'content', 'tool', 'usage', 'created_at'])
    .where('conversation_id', '=', conversationId)
    .orderBy('id')
    .limit(limit)
    .offset(offset)
    .execute();
}

/** The newest user and assistant messages of a conversation, newest first. */
export function recentMessages(db: Exec, conversationId: string, limit: number) {
  return db
    .selectFrom('agent_messages')
    .select(['role', 'content'])
    .where('conversation_id', '=', conversationId)
    .where('role', 'in', ['user', 'assistant'])
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}
