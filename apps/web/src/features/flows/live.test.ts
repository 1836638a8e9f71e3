import type { Execution } from '@infinity/contracts';
import { describe, expect, it } from 'vitest';
import type { RealtimeEvent } from '../../lib/realtime';
import { type LiveExecution, type LiveNodeRun, applyExecutionEvent, applyRunEvent, mergeSnapshot } from './live';

let n = 0;
const ev = (event: string, data: Record<string, unknown>, at = '2026-12-07T10:00:00.000Z'): RealtimeEvent => ({ eventId: `e${++n}`, event, data, at });
const row = (id: string, status: Execution['status'] = 'succeeded'): Execution => ({
  id,
  flowId: 'f1',
  flowVersion: 1,
  status,
  trigger: 'manual',
  input: null,
  output: null,
  error: null,
  parentId: null,
  steps: 2,
  claims: 1,
  startedAt: null,
  finishedAt: null,
  durationMs: 5,
  createdAt: '2026-12-07T09:00:00.000Z',
});
/** A node run as a trace lists it once finished. */
const succeeded = (nodeId: string, nodeName: string): LiveNodeRun => ({
  nodeId,
  nodeName,
  nodeType: '',
  status: 'succeeded',
  input: {},
  output: {},
  error: null,
  logs: [],
  attempts: 1,
  startedAt: '',
  finishedAt: '',
  durationMs: 1,
});
const names: Record<string, string> = { start: 'Start', wait: 'Wait', out: 'Output' };
const nameOf = (id: string) => names[id] ?? id;

describe('executions list from the executions channel', () => {
  it('puts a queued execution on top and updates rows in place as it runs and finishes', () => {
    let rows = [row('x0')];
    rows = applyExecutionEvent(rows, ev('execution.queued', { executionId: 'x1', flowId: 'f1', trigger: 'webhook' }, '2026-12-07T10:00:01.000Z'));
    expect(rows.map((r) => [r.id, r.status, r.trigger, r.createdAt])).toEqual([
      ['x1', 'queued', 'webhook', '2026-12-07T10:00:01.000Z'],
      ['x0', 'succeeded', 'manual', '2026-12-07T09:00:00.000Z'],
    ]);
    rows = applyExecutionEvent(rows, ev('execution.node.started', { executionId: 'x1', nodeId: 'start', nodeType: 'core.input' }));
    rows = applyExecutionEvent(
      rows,
      ev('execution.node.finished', { executionId: 'x1', nodeId: 'start', nodeType: 'core.input', status: 'succeeded', durationMs: 1 }),
    );
    expect([rows[0]!.status, rows[0]!.steps]).toEqual(['running', 1]);
    rows = applyExecutionEvent(rows, ev('execution.failed', { executionId: 'x1', durationMs: 42, error: { code: 'X', message: 'boom' } }));
    expect([rows[0]!.status, rows[0]!.durationMs, rows[0]!.error]).toEqual(['failed', 42, { code: 'X', message: 'boom' }]);
    expect(rows[1]).toEqual(row('x0'));
  });

  it('leaves out a queued execution when the list shows another status, and ignores events of rows it does not show', () => {
    const rows = [row('x0')];
    expect(applyExecutionEvent(rows, ev('execution.queued', { executionId: 'x1' }), { status: 'failed' })).toBe(rows);
    expect(applyExecutionEvent(rows, ev('execution.succeeded', { executionId: 'x9', durationMs: 1 }))).toBe(rows);
  });
});

describe('the run the editor follows', () => {
  const start: LiveExecution = { ...row('x1', 'queued'), steps: 0, durationMs: null, nodes: [] };

  it('shows each node running, then finished with its log lines, waits at a wait node until it finishes, and ends', () => {
    let x = applyRunEvent(start, ev('execution.node.started', { executionId: 'x1', nodeId: 'start', nodeType: 'core.input' }), nameOf);
    expect([x.status, x.nodes.map((r) => [r.nodeName, r.status])]).toEqual(['running', [['Start', 'running']]]);
    const logs = [{ level: 'info', message: 'hello', at: '2026-12-07T10:00:00.000Z' }];
    x = applyRunEvent(
      x,
      ev('execution.node.finished', {
        executionId: 'x1',
        nodeId: 'start',
        nodeType: 'core.input',
        status: 'succeeded',
        durationMs: 3,
        logs,
        outputSummary: { a: 1 },
      }),
      nameOf,
    );
    expect(x.nodes[0]).toMatchObject({ status: 'succeeded', durationMs: 3, logs, output: { a: 1 } });
    // The same event again changes nothing.
    const again = applyRunEvent(
      x,
      ev('execution.node.finished', { executionId: 'x1', nodeId: 'start', nodeType: 'core.input', status: 'succeeded', durationMs: 3 }),
      nameOf,
    );
    expect(again.nodes).toEqual(x.nodes);
    x = applyRunEvent(x, ev('execution.node.started', { executionId: 'x1', nodeId: 'wait', nodeType: 'core.wait' }), nameOf);
    expect([x.status, x.nodes[1]!.status]).toEqual(['waiting', 'waiting']);
    x = applyRunEvent(
      x,
      ev('execution.node.finished', { executionId: 'x1', nodeId: 'wait', nodeType: 'core.wait', status: 'succeeded', durationMs: 1 }),
      nameOf,
    );
    expect([x.status, x.nodes[1]!.status]).toEqual(['running', 'succeeded']);
    x = applyRunEvent(x, ev('execution.node.started', { executionId: 'x1', nodeId: 'out', nodeType: 'core.output' }), nameOf);
    expect(x.status).toBe('running');
    x = applyRunEvent(x, ev('execution.succeeded', { executionId: 'x1', durationMs: 99 }), nameOf);
    expect([x.status, x.durationMs, x.nodes.map((r) => r.status)]).toEqual(['succeeded', 99, ['succeeded', 'succeeded', 'running']]);
    // Another execution's events do not touch it.
    expect(applyRunEvent(x, ev('execution.failed', { executionId: 'other', durationMs: 1 }), nameOf)).toBe(x);
  });

  it('keeps loop items apart', () => {
    let x = start;
    for (const item of [0, 1]) {
      x = applyRunEvent(x, ev('execution.node.started', { executionId: 'x1', nodeId: 'out', nodeType: 'core.set', item }), nameOf);
      x = applyRunEvent(
        x,
        ev('execution.node.finished', { executionId: 'x1', nodeId: 'out', nodeType: 'core.set', item, status: 'succeeded', durationMs: 1 }),
        nameOf,
      );
    }
    expect(x.nodes.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
  });

  it('merges the first answer of GET with what the events already showed', () => {
    const live = applyRunEvent(start, ev('execution.node.started', { executionId: 'x1', nodeId: 'wait', nodeType: 'core.wait' }), nameOf);
    const snapshot: LiveExecution = {
      ...start,
      status: 'running',
      nodes: [succeeded('start', 'Start')],
    };
    const graph = { nodes: [], edges: [] };
    const merged = mergeSnapshot(snapshot, live, graph);
    expect(merged.nodes.map((r) => [r.nodeId, r.status])).toEqual([
      ['start', 'succeeded'],
      ['wait', 'waiting'],
    ]);
    // The answer was read before the run parked; the events saw it park (a race lost in CI): it waits.
    expect(merged.status).toBe('waiting');
    expect(mergeSnapshot(snapshot, null, graph)).toEqual(snapshot);
  });

  it('shows the wait node a run read while parked waits at (the trace lists only finished nodes)', () => {
    const parked: LiveExecution = { ...start, status: 'waiting', nodes: [succeeded('start', 'Start')] };
    const graph = {
      nodes: [
        { id: 'start', name: 'Start', type: 'trigger.manual' },
        { id: 'wait', name: 'Wait', type: 'core.wait' },
        { id: 'later', name: 'Later', type: 'core.wait' },
      ],
      edges: [
        { source: 'start', target: 'wait' },
        { source: 'wait', target: 'later' },
      ],
    };
    expect(mergeSnapshot(parked, null, graph).nodes.map((n) => [n.nodeName, n.status])).toEqual([
      ['Start', 'succeeded'],
      ['Wait', 'waiting'],
    ]);
  });
});
