import { defineNode, defineTrigger } from '@infinity/node-sdk';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type ExecutionPlan, type NodeRunRecord, executePlan } from './executor.js';
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
  it('checks a node’s declared input before running it, and stores every node before going on', async () => {
    const ok = await run({ n: 21 });
    expect(ok.result).toMatchObject({ status: 'succeeded', output: 42 });
    expect(ok.saved.map((r) => [r.nodeId, r.status])).toEqual([['s', 'succeeded'], ['d', 'succeeded']]);
    const bad = await run({ n: 'x' });
    expect(bad.result).toMatchObject({ status: 'failed', error: { nodeId: 'd', code: 'NODE_INPUT_INVALID' } });
    expect(bad.saved[1]).toMatchObject({ status: 'failed', attempts: 1 });
  });
});
