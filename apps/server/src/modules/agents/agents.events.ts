import type { AgentStep, EventActor } from '@infinity/contracts';
import { type EventSpine, type SpineUnitOfWork, summary } from '../../platform/events/index.js';
import { toAppError } from '../../platform/http/index.js';
import { type OrgActor, eventActor } from '../access/index.js';

/**
 * The agents on the event spine (issue #27: the `agents` realtime channel). Both types are
 * ephemeral (UI-facing, never in the outbox), readable with `agents:read`:
 *
 *   agent.status  active | paused   — deploy or pause, emitted in the change's transaction (after commit)
 *                 thinking ─▶ idle  — around one reply, with its conversationId
 *   agent.step    (text | tool-call | tool-result)* ─▶ finish | error   — as the reply streams
 *
 * A reply's steps are published as they happen, and built only while someone listens to them.
 */

/** Text deltas are coalesced: a text step at most every FLUSH_MS, or once FLUSH_CHARS are buffered (and at each step boundary). */
export const FLUSH_MS = 50;
export const FLUSH_CHARS = 200;

interface AgentRef {
  id: string;
  org_id: string;
}

/** Deploy (`active`) or pause, in the transaction that changes the agent's status. */
export function emitAgentStatus(events: EventSpine, uow: SpineUnitOfWork, agent: AgentRef, status: 'active' | 'paused', actor: OrgActor): void {
  events.emit(uow, { type: 'agent.status', orgId: agent.org_id, permission: 'agents:read', actor: eventActor(actor), agentId: agent.id, status });
}

/**
 * The events of one reply of an agent in a conversation: `thinking`, its steps, then `finish` or
 * `error`, then `idle`. `caller` is who is chatting (null: a consumer of a published agent, who
 * has no account — the events then name no actor). Tool inputs and outputs arrive masked (the
 * model call masks the agent's key in what it reports); outputs and inputs are bounded like
 * execution.node.finished's outputSummary.
 */
export class ReplyEvents {
  private buffer = '';
  private flushedAt: number;
  private readonly actor: EventActor | undefined;

  constructor(
    private readonly events: EventSpine,
    private readonly agent: AgentRef,
    private readonly conversationId: string,
    caller: OrgActor | null,
    private readonly now: () => number = Date.now,
  ) {
    this.actor = caller ? eventActor(caller) : undefined;
    this.flushedAt = now();
  }

  thinking(): void {
    this.status('thinking');
  }

  idle(): void {
    this.status('idle');
  }

  delta(text: string): void {
    this.buffer += text;
    if (this.buffer.length >= FLUSH_CHARS || this.now() - this.flushedAt >= FLUSH_MS) this.flush();
  }

  toolCall(c: { id: string; name: string; input: unknown }): void {
    this.flush();
    this.step(() => ({ kind: 'tool-call', toolCallId: c.id, tool: c.name, ...bounded('input', c.input) }));
  }

  toolResult(r: { id: string; name: string; output: unknown; error?: string }): void {
    this.flush();
    this.step(() => ({ kind: 'tool-result', toolCallId: r.id, tool: r.name, ...bounded('output', r.error ? { error: r.error } : r.output) }));
  }

  /** The reply is stored (committed) as `messageId`. */
  finished(messageId: string): void {
    this.flush();
    this.step(() => ({ kind: 'finish', messageId }));
  }

  /** The reply failed: the error as a client would see it (code and a client-safe message). */
  failed(err: unknown): void {
    this.flush();
    this.step(() => {
      const e = toAppError(err);
      return { kind: 'error', code: e.code, message: e.message };
    });
  }

  /** The buffered text as one step (a step boundary, or enough text or time since the last). */
  private flush(): void {
    this.flushedAt = this.now();
    if (!this.buffer) return;
    const text = this.buffer;
    this.buffer = '';
    this.step(() => ({ kind: 'text', text }));
  }

  private step(make: () => AgentStep['step']): void {
    if (this.events.hasSubscribers('agent.step')) this.events.publish({ type: 'agent.step', ...this.about(), step: make() });
  }

  private status(status: 'thinking' | 'idle'): void {
    if (this.events.hasSubscribers('agent.status')) this.events.publish({ type: 'agent.status', ...this.about(), status });
  }

  /** What every event of this reply carries: where it belongs, who asked, which conversation. */
  private about() {
    return {
      orgId: this.agent.org_id,
      permission: 'agents:read' as const,
      ...(this.actor ? { actor: this.actor } : {}),
      agentId: this.agent.id,
      conversationId: this.conversationId,
    };
  }
}

/** `{ [key]: summary }`, or nothing when there is no value. */
function bounded<K extends 'input' | 'output'>(key: K, value: unknown): { [P in K]?: unknown } {
  const s = summary(value);
  return (s === undefined ? {} : { [key]: s }) as { [P in K]?: unknown };
}
