import { defineNode, defineTrigger } from '@infinity/node-sdk';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { type ExecutionPlan, type NodeRunRecord, executePlan } from './executor.js';
import { coreNodes } from '../nodes/core.nodes.js';
import { compileGraph, flowSettingsSchema } from './graph.js';

const start = defineTrigger({
  type: 't.start',
  version: 1,
  title: 'Start',
  description: '',
  category: 'trigger',
  params: z.object({}),
  outputs: ['main'],
  execute: async ({ input }) => Promise.resolve({ main: input }),
});
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
const defs = new Map<string, unknown>([
  [start.type, start],
  [double.type, double],
]);
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
  const result = await executePlan(
    plan,
    { capabilities: () => ({}) as never, saveNodeRun: async (_p, r) => Promise.resolve(saved.push(r) > 0) },
    new AbortController().signal,
    100,
  );
  return { result, saved };
}

describe('executor', () => {
  it('calls a graph pure only when every node says so', () => {
    expect(graph.pure).toBe(false);
    const pureDefs = new Map<string, unknown>([
      [start.type, { ...start, pure: true }],
      [double.type, { ...double, pure: true }],
    ]);
    expect(compileGraph(graph.graph, (t) => pureDefs.get(t) as never).pure).toBe(true);
    const oneNot = new Map<string, unknown>([
      [start.type, { ...start, pure: true }],
      [double.type, double],
    ]);
    expect(compileGraph(graph.graph, (t) => oneNot.get(t) as never).pure).toBe(false);
    // The built-in nodes that reach outside the run are not pure.
    const types = new Map(coreNodes.map((d) => [d.type, d.pure === true]));
    expect([types.get('core.subflow'), types.get('core.wait'), types.get('core.set'), types.get('core.respond')]).toEqual([false, false, true, true]);
  });

  it('checks a node’s declared input before running it, and stores every node before going on', async () => {
    const ok = await run({ n: 21 });
    expect(ok.result).toMatchObject({ status: 'succeeded', output: 42 });
    expect(ok.saved.map((r) => [r.nodeId, r.status])).toEqual([
      ['s', 'succeeded'],
      ['d', 'succeeded'],
    ]);
    const bad = await run({ n: 'x' });
    expect(bad.result).toMatchObject({ status: 'failed', error: { nodeId: 'd', code: 'NODE_INPUT_INVALID' } });
    expect(bad.saved[1]).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it('runs a loop body once per item, results in item order, with several items at a time and turns given to the event loop', async () => {
    const loopDefs = new Map<string, unknown>([[start.type, start], ...coreNodes.map((d) => [d.type, d] as [string, unknown])]);
    const n = (id: string, type: string, params: Record<string, unknown> = {}) => ({ id, type, typeVersion: 1, name: id, position: { x: 0, y: 0 }, params });
    const loop = compileGraph(
      {
        nodes: [
          n('s', 't.start'),
          n('each', 'core.loop', { items: '{{ $input.items }}', concurrency: 7, maxItems: 10_000 }),
          n('double', 'core.transform', { expression: '$input * 2' }),
          n('sum', 'core.transform', { expression: '{ "count": $count($input), "sum": $sum($input), "first": $input[0], "last": $input[-1] }' }),
        ],
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
    const result = await executePlan(
      plan,
      { capabilities: () => ({}) as never, saveNodeRun: async (_p, r) => Promise.resolve(saved.push(r) > 0) },
      new AbortController().signal,
      100,
    ).finally(() => now.mockRestore());
    expect(turned).toBe(true);
    expect(result).toMatchObject({ status: 'succeeded', output: { count: 5000, sum: 4999 * 5000, first: 0, last: 9998 } });
    // Body nodes are not stored per item: the loop's own run carries the results.
    expect(saved.map((r) => r.nodeId)).toEqual(['s', 'each', 'sum']);
  });

  it('regression (#25: 70 records after kill -9, 10 duplicates): a resumed loop skips its checkpointed items; each item gets its own stable idempotency key', async () => {
    const keys: string[] = [];
    // An effectful body node (not pure): it records the idempotency key it was given.
    const effect = defineNode({
      type: 't.effect',
      version: 1,
      title: 'Effect',
      description: '',
      category: 'data',
      params: z.object({}),
      outputs: ['main'],
      execute: async ({ input, ctx }) => Promise.resolve({ main: (keys.push(ctx.idempotencyKey), { n: input }) }),
    });
    const loop = coreNodes.find((d) => d.type === 'core.loop')!;
    const lookup = new Map<string, unknown>([
      [start.type, start],
      [effect.type, effect],
      [loop.type, loop],
    ]);
    const g = compileGraph(
      {
        nodes: [
          { id: 's', type: 't.start', typeVersion: 1, name: 's', position: { x: 0, y: 0 }, params: {} },
          { id: 'each', type: 'core.loop', typeVersion: 1, name: 'each', position: { x: 0, y: 0 }, params: { items: '{{ [0..5] }}', concurrency: 2 } },
          { id: 'fx', type: 't.effect', typeVersion: 1, name: 'fx', position: { x: 0, y: 0 }, params: {} },
        ],
        edges: [
          { id: 'a', source: 's', sourceHandle: 'main', target: 'each', targetHandle: 'main' },
          { id: 'b', source: 'each', sourceHandle: 'item', target: 'fx', targetHandle: 'main' },
          { id: 'c', source: 'fx', sourceHandle: 'main', target: 'each', targetHandle: 'return' },
        ],
        settings: flowSettingsSchema.parse({}),
      },
      (t) => lookup.get(t) as never,
    );
    const checkpoints = new Map<string, unknown>();
    const done: unknown[] = [];
    const deps = {
      capabilities: () => ({}) as never,
      saveNodeRun: async (_p: ExecutionPlan, r: NodeRunRecord) => Promise.resolve(r.nodeId !== 'each' || done.push(r.ports?.done) > 0),
      saveLoopItem: async (_p: ExecutionPlan, loopId: string, item: string, result: unknown) =>
        Promise.resolve(checkpoints.set(`${loopId}:${item}`, result).size > 0),
    };
    const first = await executePlan(
      { id: 'x', orgId: 'o', flowId: 'f', trigger: 'manual', graph: g, start: ['s'], input: {}, usePins: false, prior: [] },
      deps,
      new AbortController().signal,
      100,
    );
    expect(first.status).toBe('succeeded');
    expect(done.pop()).toEqual([0, 1, 2, 3, 4, 5].map((n) => ({ n })));
    expect([...checkpoints.keys()].sort()).toEqual(['each:0', 'each:1', 'each:2', 'each:3', 'each:4', 'each:5']);
    expect(keys.sort()).toEqual(['x:fx:0', 'x:fx:1', 'x:fx:2', 'x:fx:3', 'x:fx:4', 'x:fx:5']);
    // The same execution resumed after items 0-3 had completed: only 4 and 5 run again, under the same keys.
    keys.length = 0;
    const priorItems = new Map([...checkpoints].filter(([k]) => ['each:0', 'each:1', 'each:2', 'each:3'].includes(k)));
    const resumed = await executePlan(
      {
        id: 'x',
        orgId: 'o',
        flowId: 'f',
        trigger: 'manual',
        graph: g,
        start: ['s'],
        input: {},
        usePins: false,
        prior: [{ nodeId: 's', status: 'succeeded', ports: { main: {} } }],
        priorItems,
      },
      deps,
      new AbortController().signal,
      100,
    );
    expect(resumed.status).toBe('succeeded');
    expect(done.pop()).toEqual([0, 1, 2, 3, 4, 5].map((n) => ({ n })));
    expect(keys.sort()).toEqual(['x:fx:4', 'x:fx:5']);
    // A checkpoint that cannot be written (the lease was lost) stops the loop and the run.
    const lost = await executePlan(
      { id: 'y', orgId: 'o', flowId: 'f', trigger: 'manual', graph: g, start: ['s'], input: {}, usePins: false, prior: [] },
      { ...deps, saveLoopItem: async () => Promise.resolve(false) },
      new AbortController().signal,
      100,
    );
    expect(lost.status).toBe('lost');
  });
});
