import type { AgentStep, EventOf } from '@infinity/contracts';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../platform/errors.js';
import { EventSpine } from '../../platform/events/index.js';
import { FLUSH_CHARS, FLUSH_MS, ReplyEvents } from './agents.events.js';

/** A reply's events on an in-memory spine, with a clock the test moves. */
function reply() {
  const spine = new EventSpine();
  const seen: (EventOf<'agent.step'> | EventOf<'agent.status'>)[] = [];
  spine.subscribe('agent.step', (e) => void seen.push(e));
  spine.subscribe('agent.status', (e) => void seen.push(e));
  let now = 1_000;
  const caller = { kind: 'user' as const, userId: 'u1', sessionId: 's1', orgId: 'org-a', role: 'editor' as const };
  const events = new ReplyEvents(spine, { id: 'agent-1', org_id: 'org-a' }, 'conv-1', caller, () => now);
  const steps = () => seen.filter((e): e is EventOf<'agent.step'> => e.type === 'agent.step').map((e) => e.step);
  const texts = () => steps().flatMap((s) => (s.kind === 'text' ? [s.text] : []));
  return { events, seen, steps, texts, tick: (ms: number) => (now += ms) };
}

describe('agent events of one reply', () => {
  it('coalesces text: a step per FLUSH_CHARS or FLUSH_MS, and at every step boundary; no text is lost or reordered', () => {
    const r = reply();
    r.events.thinking();
    // Small deltas in the same instant stay buffered until FLUSH_CHARS are reached.
    for (let i = 0; i < 19; i++) r.events.delta('0123456789');
    expect(r.texts()).toEqual([]);
    r.events.delta('abcdefghij');
    expect(r.texts()).toEqual(['0123456789'.repeat(19) + 'abcdefghij']);
    expect(r.texts()[0]).toHaveLength(FLUSH_CHARS);
    // Time: a delta after FLUSH_MS goes out with what was buffered before it.
    r.events.delta('slow ');
    r.tick(FLUSH_MS - 1);
    r.events.delta('and ');
    expect(r.texts()).toHaveLength(1);
    r.tick(1);
    r.events.delta('steady');
    expect(r.texts().at(-1)).toBe('slow and steady');
    // A tool call is a boundary: the text before it goes first.
    r.events.delta('Let me look.');
    r.events.toolCall({ id: 'c1', name: 'lookup', input: { q: 'x' } });
    r.events.toolResult({ id: 'c1', name: 'lookup', output: { ok: true } });
    r.events.delta('Done.');
    r.events.finished('m1');
    r.events.idle();
    expect(r.steps().map((s) => s.kind)).toEqual(['text', 'text', 'text', 'tool-call', 'tool-result', 'text', 'finish']);
    expect(r.texts().join('')).toBe(`${'0123456789'.repeat(19)}abcdefghijslow and steadyLet me look.Done.`);
    expect(r.seen.map((e) => (e.type === 'agent.status' ? e.status : e.step.kind))).toEqual([
      'thinking',
      'text',
      'text',
      'text',
      'tool-call',
      'tool-result',
      'text',
      'finish',
      'idle',
    ]);
    for (const e of r.seen)
      expect(e).toMatchObject({ orgId: 'org-a', permission: 'agents:read', agentId: 'agent-1', conversationId: 'conv-1', actor: { type: 'user', id: 'u1' } });
  });

  it('bounds tool inputs and outputs like execution.node.finished (≤ 2 KB of JSON, else a marked preview)', () => {
    const r = reply();
    const big = { rows: Array.from({ length: 200 }, (_, i) => ({ i, text: 'lorem ipsum dolor' })) };
    r.events.toolCall({ id: 'c1', name: 'search', input: big });
    r.events.toolResult({ id: 'c1', name: 'search', output: big });
    r.events.toolResult({ id: 'c2', name: 'http', output: null, error: 'The action failed: boom' });
    const [call, result, failed] = r.steps() as Extract<AgentStep['step'], { kind: 'tool-call' | 'tool-result' }>[];
    const bytes = JSON.stringify(big).length;
    expect(call).toMatchObject({ kind: 'tool-call', tool: 'search', input: { $truncated: true, bytes } });
    expect(result).toMatchObject({ kind: 'tool-result', toolCallId: 'c1', output: { $truncated: true, bytes } });
    for (const s of [call, result]) expect(JSON.stringify(s).length).toBeLessThanOrEqual(2048);
    expect(failed).toEqual({ kind: 'tool-result', toolCallId: 'c2', tool: 'http', output: { error: 'The action failed: boom' } });
  });

  it('an error step says what a client would be told: the code and message of an AppError, nothing of an unexpected error', () => {
    const r = reply();
    r.events.delta('Partial ');
    r.events.failed(new AppError('AI_PROVIDER_ERROR', 502, 'The provider refused the request.'));
    r.events.failed(new Error('connect ECONNREFUSED postgres://app:hunter2@db'));
    expect(r.steps()).toEqual([
      { kind: 'text', text: 'Partial ' },
      { kind: 'error', code: 'AI_PROVIDER_ERROR', message: 'The provider refused the request.' },
      { kind: 'error', code: 'INTERNAL', message: expect.not.stringContaining('hunter2') as unknown as string },
    ]);
  });

  it('a consumer of a published agent (no account) is named by no actor', () => {
    const spine = new EventSpine();
    const seen: unknown[] = [];
    spine.subscribe('agent.status', (e) => void seen.push(e));
    spine.subscribe('agent.step', (e) => void seen.push(e));
    const consumer = new ReplyEvents(spine, { id: 'a', org_id: 'o' }, 'c', null);
    consumer.thinking();
    consumer.delta('x'.repeat(FLUSH_CHARS));
    consumer.idle();
    expect(seen).toHaveLength(3);
    for (const e of seen) expect(e).not.toHaveProperty('actor');
  });
});
