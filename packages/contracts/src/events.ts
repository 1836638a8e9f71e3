/**
 * The domain event catalogue (issue #26; SPEC §6): every event the server publishes after a commit,
 * with its payload. The server's event spine, its consumers (record triggers, audit, usage alerts,
 * identity caches) and, later, realtime subscribers and outbound webhooks are all typed by it.
 *
 * Every event carries the organization it belongs to and the permission a reader needs
 * (`permission`, named as in the server's permission table); nothing is ever delivered across
 * organizations, and realtime checks `permission` against the subscriber's role at delivery time.
 */

/** Who caused an event: a user, an API key, a flow execution, or the system itself. */
export interface EventActor {
  type: 'user' | 'apiKey' | 'flow' | 'service' | 'system';
  id: string | null;
}

/** A record as the API returns it (id, createdAt, updatedAt and the model's fields). */
export type EventRecord = { id: string } & Record<string, unknown>;

interface Base<P extends string> {
  /** Unique id of this event (a UUID); consumers deduplicate redeliveries on it. */
  id: string;
  orgId: string;
  /** The permission a reader of this event needs. */
  permission: P;
  /** ISO timestamp of the commit that produced it. */
  at: string;
  actor?: EventActor;
}

export interface RecordCreated extends Base<'records:read'> {
  type: 'record.created';
  model: string;
  recordId: string;
  after: EventRecord;
}
export interface RecordUpdated extends Base<'records:read'> {
  type: 'record.updated';
  model: string;
  recordId: string;
  /** The record before the change; absent when the writer did not read it (bulk set-null). */
  before?: EventRecord;
  after: EventRecord;
  /** Field names the write touched. */
  changed: string[];
  /** Set when the database changed the record because of another delete (`set null`). */
  cause?: { type: 'cascade'; model: string; recordId: string };
}
export interface RecordDeleted extends Base<'records:read'> {
  type: 'record.deleted';
  model: string;
  recordId: string;
  before: EventRecord;
  /** Set when the record went because its parent was deleted (`on delete cascade`). */
  cause?: { type: 'cascade'; model: string; recordId: string };
}

export interface ExecutionQueued extends Base<'executions:read'> {
  type: 'execution.queued';
  executionId: string;
  flowId: string;
  trigger: string;
}
export interface ExecutionNodeStarted extends Base<'executions:read'> {
  type: 'execution.node.started';
  executionId: string;
  flowId: string;
  nodeId: string;
  nodeType: string;
  /** Loop item index when inside a loop. */
  item?: number;
}
export interface ExecutionNodeFinished extends Base<'executions:read'> {
  type: 'execution.node.finished';
  executionId: string;
  flowId: string;
  nodeId: string;
  nodeType: string;
  status: 'succeeded' | 'failed' | 'skipped';
  durationMs: number;
  /** A bounded summary of the output (never secrets: masked like stored node runs). */
  outputSummary?: unknown;
  error?: { code: string; message: string };
  /** Log lines the node wrote. */
  logs?: { level: string; message: string; at: string }[];
  item?: number;
}
export interface ExecutionSucceeded extends Base<'executions:read'> {
  type: 'execution.succeeded';
  executionId: string;
  flowId: string;
  durationMs: number;
}
export interface ExecutionFailed extends Base<'executions:read'> {
  type: 'execution.failed';
  executionId: string;
  flowId: string;
  durationMs: number;
  error?: { code: string; message: string; nodeId?: string };
}

export interface FlowSaved extends Base<'flows:read'> {
  type: 'flow.saved';
  flowId: string;
  version: number;
  /** What kind of save: a draft edit, a publish (or its withdrawal), activation or deletion. */
  change: 'created' | 'updated' | 'published' | 'unpublished' | 'activated' | 'deactivated' | 'deleted';
}
export interface ModelChanged extends Base<'models:read'> {
  type: 'model.changed';
  model: string;
  change: 'created' | 'updated' | 'deleted';
}
export interface MemberChanged extends Base<'members:read'> {
  type: 'member.changed';
  userId: string;
  /** The new role; null when the member was removed. */
  role: string | null;
}
export interface KeyRevoked extends Base<'org:read'> {
  type: 'key.revoked';
  keyId: string;
  /** The SHA-256 of the key (what caches are keyed by); never the key itself. */
  keyHash: string;
}
export interface UsageAlert extends Base<'usage:read'> {
  type: 'usage.alert';
  notificationId: string;
  metric: string;
  percent: number;
  used: number;
  limit: number;
}
export interface NotificationCreated extends Base<'notifications:read'> {
  type: 'notification.created';
  notificationId: string;
  kind: string;
  title: string;
}

/** An agent was deployed, paused, or started/finished answering (issue #27: the `agents` channel). */
export interface AgentStatus extends Base<'agents:read'> {
  type: 'agent.status';
  agentId: string;
  /** `active` / `paused` (deploy state), or `thinking` / `idle` while a conversation is answered. */
  status: 'active' | 'paused' | 'thinking' | 'idle';
  conversationId?: string;
}
/** One step of an agent's reply as it happens: streamed text, a tool call, its result, the end or an error. */
export interface AgentStep extends Base<'agents:read'> {
  type: 'agent.step';
  agentId: string;
  conversationId: string;
  step:
    | { kind: 'text'; text: string }
    | { kind: 'tool-call'; toolCallId: string; tool: string; input?: unknown }
    | { kind: 'tool-result'; toolCallId: string; tool: string; output?: unknown }
    | { kind: 'finish'; messageId?: string }
    | { kind: 'error'; code: string; message: string };
}
/** Who has a flow open in the editor (issue #27: the `flow` channel; per connection, across processes). */
export interface FlowPresence extends Base<'flows:read'> {
  type: 'flow.presence';
  flowId: string;
  userId: string;
  name: string;
  /** The realtime connection that opened (or closed) the flow: one person may have it open twice. */
  connectionId: string;
  state: 'open' | 'closed';
}
/** An outbound webhook subscription changed (every process's subscription index follows it). */
export interface WebhookChanged extends Base<'webhooks:manage'> {
  type: 'webhook.changed';
  webhookId: string;
  change: 'created' | 'updated' | 'deleted' | 'disabled';
}

export type DomainEvent =
  | RecordCreated
  | RecordUpdated
  | RecordDeleted
  | ExecutionQueued
  | ExecutionNodeStarted
  | ExecutionNodeFinished
  | ExecutionSucceeded
  | ExecutionFailed
  | FlowSaved
  | ModelChanged
  | MemberChanged
  | KeyRevoked
  | UsageAlert
  | NotificationCreated
  | AgentStatus
  | AgentStep
  | FlowPresence
  | WebhookChanged;

export type DomainEventType = DomainEvent['type'];
export type EventOf<T extends DomainEventType> = Extract<DomainEvent, { type: T }>;
/** What a publisher supplies: the spine fills in id and at. */
export type NewEvent<T extends DomainEventType = DomainEventType> = T extends DomainEventType ? Omit<EventOf<T>, 'id' | 'at'> : never;

/**
 * How each type travels. `durable`: written to the outbox in the writer's transaction (when some
 * durable consumer wants it) and drained with a lease — never lost. `ephemeral`: fanned out in
 * memory after commit (and across processes only while someone subscribes) — UI-facing only.
 */
export const EVENT_TYPES = {
  'record.created': 'durable',
  'record.updated': 'durable',
  'record.deleted': 'durable',
  'execution.queued': 'durable',
  'execution.node.started': 'ephemeral',
  'execution.node.finished': 'ephemeral',
  'execution.succeeded': 'durable',
  'execution.failed': 'durable',
  'flow.saved': 'durable',
  'model.changed': 'durable',
  'member.changed': 'durable',
  'key.revoked': 'durable',
  'usage.alert': 'durable',
  'notification.created': 'durable',
  'agent.status': 'ephemeral',
  'agent.step': 'ephemeral',
  'flow.presence': 'ephemeral',
  'webhook.changed': 'durable',
} as const satisfies Record<DomainEventType, 'durable' | 'ephemeral'>;
