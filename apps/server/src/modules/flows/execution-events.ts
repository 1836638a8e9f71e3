import type { ExecutionFailed, NewEvent } from '@infinity/contracts';
import { type EventSpine, summary } from '../../platform/events/index.js';
import type { ExecutionResult, NodeRunRecord } from '../engine/index.js';

/**
 * The typed events of an execution (packages/contracts events.ts), in the order a reader sees them:
 *
 *   execution.queued ─▶ (execution.node.started ─▶ execution.node.finished)* ─▶ execution.succeeded | execution.failed
 *
 * `queued` and the end are durable: emitted in the transaction that writes the execution
 * (ExecutionStore). The node events are ephemeral, published as they happen, and built only when
 * someone listens (`spine.hasSubscribers`): a run nobody watches pays two map lookups per node.
 */

/** Where an execution belongs, as its events carry it. */
export interface ExecutionRef {
  id: string;
  orgId: string;
  flowId: string;
}

const LOG_LINES = 100;

export type ExecutionEnd = NewEvent<'execution.succeeded'> | NewEvent<'execution.failed'>;

export class ExecutionEvents {
  constructor(readonly spine: EventSpine) {}

  /** Whether someone would receive this execution event type (publishers skip building it otherwise). */
  wants(type: 'execution.queued' | 'execution.succeeded' | 'execution.failed'): boolean {
    return this.spine.hasSubscribers(type);
  }

  queued(e: ExecutionRef & { trigger: string }): NewEvent<'execution.queued'> {
    return { type: 'execution.queued', orgId: e.orgId, permission: 'executions:read', executionId: e.id, flowId: e.flowId, trigger: e.trigger };
  }

  /** The event that ends a run, or null when nobody listens for it. */
  ended(e: ExecutionRef, result: Pick<ExecutionResult, 'status' | 'error'>, durationMs: number): ExecutionEnd | null {
    const base = { orgId: e.orgId, permission: 'executions:read' as const, executionId: e.id, flowId: e.flowId, durationMs };
    if (result.status === 'succeeded')
      return this.wants('execution.succeeded') ? ({ type: 'execution.succeeded', ...base } satisfies NewEvent<'execution.succeeded'>) : null;
    if (!this.wants('execution.failed')) return null;
    const err = result.error;
    const error: ExecutionFailed['error'] = err ? { code: err.code, message: err.message, ...(err.nodeId ? { nodeId: err.nodeId } : {}) } : undefined;
    return { type: 'execution.failed', ...base, ...(error ? { error } : {}) } satisfies NewEvent<'execution.failed'>;
  }

  nodeStarted(e: ExecutionRef, node: { id: string; type: string }): void {
    if (!this.spine.hasSubscribers('execution.node.started')) return;
    this.spine.publish({
      type: 'execution.node.started',
      orgId: e.orgId,
      permission: 'executions:read',
      executionId: e.id,
      flowId: e.flowId,
      nodeId: node.id,
      nodeType: node.type,
    });
  }

  /**
   * A node has finished (and is stored, or buffered to be). `run` is the record as stored: secrets
   * already masked; `data` false (the run keeps no consumer data) leaves the output out.
   */
  nodeFinished(e: ExecutionRef, run: NodeRunRecord, data: boolean): void {
    if (!this.spine.hasSubscribers('execution.node.finished')) return;
    const outputSummary = data ? summary(run.ports) : undefined;
    this.spine.publish({
      type: 'execution.node.finished',
      orgId: e.orgId,
      permission: 'executions:read',
      executionId: e.id,
      flowId: e.flowId,
      nodeId: run.nodeId,
      nodeType: run.nodeType,
      status: run.status,
      durationMs: run.finishedAt.getTime() - run.startedAt.getTime(),
      ...(outputSummary === undefined ? {} : { outputSummary }),
      ...(run.error ? { error: { code: run.error.code, message: run.error.message } } : {}),
      ...(run.logs.length ? { logs: run.logs.slice(-LOG_LINES).map((l) => ({ level: l.level, message: l.message, at: l.at })) } : {}),
    });
  }
}
