import type { DomainEventType, DomainEvent as TypedEvent } from '@infinity/contracts';
import type { Permission } from '../access/index.js';
import type { ChannelParams } from './realtime.protocol.js';

/**
 * Channels and the events they carry. A subscription is indexed under one key inside its
 * organization; an event names the keys it goes to; `match` narrows further (an agents
 * subscription on one conversation of one agent). So one event costs O(its subscribers).
 *
 *   records     records:<model>                 record.created|updated|deleted (+ filter, realtime.records.ts)
 *   execution   execution:<id>                  execution.queued|node.started|node.finished|succeeded|failed
 *   executions  executions | executions:<flow>  execution.queued|succeeded|failed
 *   flow        flow:<id>                       flow.saved, flow.presence
 *   agents      agents | agents:a:<id> | agents:c:<conversation>   agent.status, agent.step
 *   notifications notifications                 notification.created
 *   stats       stats                           stats.delta (built by realtime.stats.ts)
 */
export interface ChannelSpec {
  key: string;
  /** Spine types this subscription needs. */
  types: readonly DomainEventType[];
  /** What a subscriber's role must hold to subscribe (events are also checked one by one). */
  permission: Permission;
  match?: (e: TypedEvent) => boolean;
}

export const RECORD_TYPES = ['record.created', 'record.updated', 'record.deleted'] as const;
const EXECUTION_TYPES = ['execution.queued', 'execution.node.started', 'execution.node.finished', 'execution.succeeded', 'execution.failed'] as const;
const RUN_TYPES = ['execution.queued', 'execution.succeeded', 'execution.failed'] as const;
export const STATS_TYPES = [...RECORD_TYPES, 'execution.succeeded', 'execution.failed'] as const;

export function specOf(p: ChannelParams): ChannelSpec {
  switch (p.channel) {
    case 'records':
      return { key: `records:${p.model}`, types: RECORD_TYPES, permission: 'records:read' };
    case 'execution':
      return { key: `execution:${p.executionId}`, types: EXECUTION_TYPES, permission: 'executions:read' };
    case 'executions':
      return { key: p.flowId ? `executions:${p.flowId}` : 'executions', types: RUN_TYPES, permission: 'executions:read' };
    case 'flow':
      return { key: `flow:${p.flowId}`, types: ['flow.saved', 'flow.presence'], permission: 'flows:read' };
    case 'agents': {
      const types = ['agent.status', 'agent.step'] as const;
      if (p.conversationId) {
        const agentId = p.agentId;
        return {
          key: `agents:c:${p.conversationId}`,
          types,
          permission: 'agents:read',
          ...(agentId ? { match: (e: TypedEvent) => 'agentId' in e && e.agentId === agentId } : {}),
        };
      }
      return { key: p.agentId ? `agents:a:${p.agentId}` : 'agents', types, permission: 'agents:read' };
    }
    case 'notifications':
      return { key: 'notifications', types: ['notification.created'], permission: 'notifications:read' };
    case 'stats':
      return { key: 'stats', types: STATS_TYPES, permission: 'stats:read' };
    default: {
      const never: never = p;
      return never;
    }
  }
}

/** The index keys an event goes to (stats are counted apart). */
export function keysOf(e: TypedEvent): string[] {
  switch (e.type) {
    case 'record.created':
    case 'record.updated':
    case 'record.deleted':
      return [`records:${e.model}`];
    case 'execution.node.started':
    case 'execution.node.finished':
      return [`execution:${e.executionId}`];
    case 'execution.queued':
    case 'execution.succeeded':
    case 'execution.failed':
      return [`execution:${e.executionId}`, 'executions', `executions:${e.flowId}`];
    case 'flow.saved':
    case 'flow.presence':
      return [`flow:${e.flowId}`];
    case 'agent.status':
      return e.conversationId ? ['agents', `agents:a:${e.agentId}`, `agents:c:${e.conversationId}`] : ['agents', `agents:a:${e.agentId}`];
    case 'agent.step':
      return ['agents', `agents:a:${e.agentId}`, `agents:c:${e.conversationId}`];
    case 'notification.created':
      return ['notifications'];
    default:
      return [];
  }
}

/** Types that realtime channels carry (and the replay log keeps). */
export const CHANNEL_TYPES: ReadonlySet<string> = new Set<DomainEventType>([
  ...EXECUTION_TYPES,
  ...RECORD_TYPES,
  'flow.saved',
  'flow.presence',
  'agent.status',
  'agent.step',
  'notification.created',
]);

const ROUTING = ['id', 'type', 'at', 'orgId', 'permission'] as const;

/** An event as subscribers see it: without id, type, at, orgId and permission (the envelope carries those that matter). */
export function dataOf(e: TypedEvent): Record<string, unknown> {
  const data: Record<string, unknown> = { ...e };
  for (const k of ROUTING) delete data[k];
  return data;
}
