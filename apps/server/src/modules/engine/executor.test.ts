import { defineNode, defineTrigger } from '@infinity/node-sdk';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { type ExecutionPlan, type NodeRunRecord, executePlan } from './executor.js';
import { coreNodes } from '../nodes/core.nodes.js';
import { compileGraph, flowSettingsSchema } from './graph.js';

const start = defineTrigger({ type: 't.start', version: 1, title: 'Start', description: '', category: 'trigger', params: z.object({}), outputs: ['main'], execute: async ({ input }) => Promise.resolve({ main: input }) });
const double = defineNode({
  type: 't.double',
  version: 1,
  title: 'Double',
  description: '',
  category: 'transform',
  params: z.object({}),
  input: z.object({ n: z.number() }),
  outputs: ['main'],
  execute: async ({ input }) => Promise.resolve({ main: input.n * 2 }),
});
const defs = new Map<string, unknown>([[start.type, start], [double.type, double]]);
const graph = compileGraph(
  {
    nodes: [
      { id: 's', type: 't.start', typeVersion: 1, name: 's', position: { x: 0, y: 0 }, params: {} },
      { id: 'd', type: 't.double', typeVersion: 1, name: 'd', position: { x: 0, y: 0 }, params: {} },
    ],
    edges: [{ id: 'e', source: 's', sourceHandle: 'main', target: 'd', targetHandle: 'main' }],
    settings: flowSettingsSchema.parse({}),
  },
  (t) => defs.get(t) as never,
);

async function run(input: unknown) {
  const saved: NodeRunRecord[] = [];
  const plan: ExecutionPlan = { id: 'x', orgId: 'o', flowId: 'f', trigger: 'manual', graph, start: ['s'], input, usePins: false, prior: [] };
  const result = await executePlan(plan, { capabilities: () => ({}) as never, saveNodeRun: async (_p, r) => Promise.resolve(saved.push(r) > 0) }, new AbortController().signal, 100);
  return { result, saved };
}

describe('executor', () => {
  it('calls a graph pure only when every node says so', () => {
    expect(graph.pure).toBe(false);
    const pureDefs = new Map<string, unknown>([[start.type, { ...start, pure: true }], [double.type, { ...double, pure: true }]]);
    expect(compileGraph(graph.graph, (t) => pureDefs.get(t) as never).pure).toBe(true);
    const oneNot = new Map<string, unknown>([[start.type, { ...start, pure: true }], [double.type, double]]);
    expect(compileGraph(graph.graph, (t) => oneNot.get(t) as never).pure).toBe(false);
    // The built-in nodes that reach outside the run are not pure.
    const types = new Map(coreNodes.map((d) => [d.type, d.pure === true]));
    expect([types.get('core.subflow'), types.get('core.wait'), types.get('core.set'), types.get('core.respond')]).toEqual([false, false, true, true]);
  });

  it('checks a node’s declared input before running it, and stores every node before going on', async () => {
    const ok = await run({ n: 21 });
    expect(ok.result).toMatchObject({ status: 'succeeded', output: 42 });
    expect(ok.saved.map((r) => [r.nodeId, r.status])).toEqual([['s', 'succeeded'], ['d', 'succeeded']]);
    const bad = await run({ n: 'x' });
    expect(bad.result).toMatchObject({ status: 'failed', error: { nodeId: 'd', code: 'NODE_INPUT_INVALID' } });
    expect(bad.saved[1]).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it('runs a loop body once per item, results in item order, with several items at a time and turns given to the event loop', async () => {
    const loopDefs = new Map<string, unknown>([[start.type, start], ...coreNodes.map((d) => [d.type, d] as [string, unknown])]);
    const n = (id: string, type: string, params: Record<string, unknown> = {}) => ({ id, type, typeVersion: 1, name: id, position: { x: 0, y: 0 }, params });
    const loop = compileGraph(
      {
        nodes: [n('s', 't.start'), n('each', 'core.loop', { items: '{{ $input.items }}', concurrency: 7, maxItems: 10_000 }), n('double', 'core.transform', { expression: '$input * 2' }), n('sum', 'core.transform', { expression: '{ "count": $count($input), "sum": $sum($input), "first": $input[0], "last": $input[-1] }' })],
        edges: [
          { id: 'a', source: 's', sourceHandle: 'main', target: 'each', targetHandle: 'main' },
          { id: 'i', source: 'each', sourceHandle: 'item', target: 'double', targetHandle: 'main' },
          { id: 'r', source: 'double', sourceHandle: 'main', target: 'each', targetHandle: 'return' },
          { id: 'd', source: 'each', sourceHandle: 'done', target: 'sum', targetHandle: 'main' },
        ],
        settings: flowSettingsSchema.parse({}),
      },
      (t) => loopDefs.get(t) as never,
    );
    const items = Array.from({ length: 5000 }, (_, i) => i);
    const plan: ExecutionPlan = { id: 'x', orgId: 'o', flowId: 'f', trigger: 'manual', graph: loop, start: ['s'], input: { items }, usePins: false, prior: [] };
    const saved: NodeRunRecord[] = [];
    // A clock that moves 11 ms per reading: the loop must hand the event loop a turn.
    let clock = 0;
    const now = vi.spyOn(performance, 'now').mockImplementation(() => (clock += 11));
    let turned = false;
    setImmediate(() => (turned = true));
    const result = await executePlan(plan, { capabilities: () => ({}) as never, saveNodeRun: async (_p, r) => Promise.resolve(saved.push(r) > 0) }, new AbortController().signal, 100).finally(() => now.mockRestore());
    expect(turned).toBe(true);
    expect(result).toMatchObject({ status: 'succeeded', output: { count: 5000, sum: 4999 * 5000, first: 0, last: 9998 } });
    // Body nodes are not stored per item: the loop's own run carries the results.
    expect(saved.map((r) => r.nodeId)).toEqual(['s', 'each', 'sum']);
  });
});
