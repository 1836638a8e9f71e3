import { NodeError, defineNode, ref } from '@infinity/node-sdk';
import { z } from 'zod';

/** Flow I/O and logic nodes. Parameters holding `{{ … }}` arrive already evaluated. */

const truthy = (v: unknown) => !(v === false || v === null || v === undefined || v === 0 || v === '' || (Array.isArray(v) && v.length === 0));

export const inputNode = defineNode({
  type: 'core.input',
  pure: true,
  version: 1,
  title: 'Input',
  description: 'Declares the input of a published flow or agent tool as a JSON Schema, and checks the input against its required properties.',
  category: 'flow',
  params: z.strictObject({
    schema: z.record(z.string(), z.unknown()).default({ type: 'object' }).describe('JSON Schema of the input'),
  }),
  inputs: ['main'],
  outputs: ['main'],
  execute: async ({ params, input }) => {
    const required = Array.isArray(params.schema.required) ? (params.schema.required as unknown[]).filter((x): x is string => typeof x === 'string') : [];
    const obj = input && typeof input === 'object' ? (input as Record<string, unknown>) : {};
    const missing = required.filter((k) => obj[k] === undefined || obj[k] === null);
    if (missing.length)
      throw new NodeError(`Missing input: ${missing.join(', ')}.`, {
        code: 'INPUT_INVALID',
        details: missing.map((field) => ({ field, code: 'required' })),
        retryable: false,
      });
    return Promise.resolve({ main: input });
  },
});

export const outputNode = defineNode({
  type: 'core.output',
  pure: true,
  version: 1,
  title: 'Output',
  description: 'The data the flow returns (to the caller of a published flow, a sub-flow or an agent tool).',
  category: 'flow',
  params: z.strictObject({ value: z.unknown().optional().describe('default: the node’s input') }),
  outputs: ['main'],
  execute: async ({ params, input }) => Promise.resolve({ main: params.value === undefined ? input : params.value }),
});

export const respondNode = defineNode({
  type: 'core.respond',
  pure: true,
  version: 1,
  title: 'Respond',
  description: 'The HTTP answer of a webhook or published flow: status, headers and body. Emits {status, headers, body}; the execution’s output is the body.',
  category: 'flow',
  params: z.strictObject({
    body: z.unknown().optional().describe('default: the node’s input'),
    status: z.coerce.number().int().min(200).max(599).default(200),
    headers: z.record(z.string().max(100), z.string().max(2000)).default({}),
  }),
  outputs: ['main'],
  execute: async ({ params, input }) =>
    Promise.resolve({ main: { status: params.status, headers: params.headers, body: params.body === undefined ? input : params.body } }),
});

export const transformNode = defineNode({
  type: 'core.transform',
  pure: true,
  version: 1,
  title: 'Transform',
  description: 'Shapes data with a JSONata expression over $input and $node (e.g. { "email": $input.body.email }).',
  category: 'transform',
  params: z.strictObject({ expression: z.string().min(1).max(10_000) }),
  outputs: ['main'],
  execute: async ({ params, ctx }) => ({ main: await ctx.expression(params.expression) }),
});

export const setNode = defineNode({
  type: 'core.set',
  pure: true,
  version: 1,
  title: 'Set fields',
  description: 'Adds or replaces fields on the input object (values may be expressions).',
  category: 'transform',
  params: z.strictObject({
    values: z.record(z.string().max(100), z.unknown()).default({}),
    keepInput: z.boolean().default(true),
  }),
  outputs: ['main'],
  execute: async ({ params, input }) => {
    const base = params.keepInput && input && typeof input === 'object' && !Array.isArray(input) ? (input as Record<string, unknown>) : {};
    return Promise.resolve({ main: { ...base, ...params.values } });
  },
});

export const ifNode = defineNode({
  type: 'core.if',
  pure: true,
  version: 1,
  title: 'If',
  description: 'Routes the input to "true" or "false" by a condition (usually an expression such as {{ $input.amount > 100 }}).',
  category: 'logic',
  params: z.strictObject({ condition: z.unknown() }),
  outputs: ['true', 'false'],
  execute: async ({ params, input }) => Promise.resolve(truthy(params.condition) ? { true: input } : { false: input }),
});

const SWITCH_PORTS = ['case1', 'case2', 'case3', 'case4', 'case5', 'case6', 'case7', 'case8', 'default'] as const;

export const switchNode = defineNode({
  type: 'core.switch',
  pure: true,
  version: 1,
  title: 'Switch',
  description: 'Routes the input to the first case whose JSONata condition holds (case1…case8), else to "default"; with mode "all", to every matching case.',
  category: 'logic',
  params: z.strictObject({
    cases: z.array(z.string().min(1).max(2000)).min(1).max(8).describe('JSONata conditions over $input, in port order'),
    mode: z.enum(['first', 'all']).default('first'),
  }),
  outputs: SWITCH_PORTS,
  execute: async ({ params, input, ctx }) => {
    const out: Partial<Record<(typeof SWITCH_PORTS)[number], unknown>> = {};
    for (const [i, cond] of params.cases.entries()) {
      if (truthy(await ctx.expression(cond))) {
        out[SWITCH_PORTS[i]!] = input;
        if (params.mode === 'first') break;
      }
    }
    if (Object.keys(out).length === 0) out.default = input;
    return out;
  },
});

export const mergeNode = defineNode({
  type: 'core.merge',
  pure: true,
  version: 1,
  title: 'Merge',
  description:
    'Joins branches. mode "all": waits for every incoming branch and emits their data as an array (or one object merged from all); "first": continues with the first to arrive.',
  category: 'logic',
  params: z.strictObject({
    mode: z.enum(['all', 'first']).default('all'),
    combine: z.enum(['array', 'object']).default('array').describe('with mode all: an array of inputs, or their fields merged into one object'),
  }),
  join: (p) => p.mode,
  outputs: ['main'],
  execute: async ({ params, input, inputs }) => {
    if (params.mode === 'first') return Promise.resolve({ main: input });
    if (params.combine === 'object')
      return Promise.resolve({ main: Object.assign({}, ...inputs.filter((x) => x && typeof x === 'object' && !Array.isArray(x))) as unknown });
    return Promise.resolve({ main: inputs });
  },
});

export const loopNode = defineNode({
  type: 'core.loop',
  pure: true,
  version: 1,
  title: 'Loop',
  description:
    'For each item of a list: runs the nodes wired after "item" (the body, which leads back into this node’s "return" input) and emits every item’s result, in order, on "done". Bounded concurrency.',
  category: 'logic',
  params: z.strictObject({
    items: z.unknown().optional().describe('the list (usually an expression such as {{ $input.rows }}); default: the input when it is a list'),
    concurrency: z.number().int().min(1).max(50).default(1),
    maxItems: z.number().int().min(1).max(1_000_000).default(100_000),
  }),
  inputs: ['main', 'return'],
  outputs: ['item', 'done'],
  control: 'loop',
  execute: async ({ params, input }) => {
    const items = params.items === undefined ? input : params.items;
    if (!Array.isArray(items))
      throw new NodeError(`The loop needs a list of items, got ${items === null ? 'null' : typeof items}.`, { code: 'LOOP_ITEMS_INVALID', retryable: false });
    if (items.length > params.maxItems)
      throw new NodeError(`${items.length} items is more than this loop’s maxItems (${params.maxItems}).`, { code: 'LOOP_TOO_MANY_ITEMS', retryable: false });
    return Promise.resolve({ item: items });
  },
});

export const subflowNode = defineNode({
  type: 'core.subflow',
  version: 1,
  title: 'Sub-flow',
  description: 'Runs another flow of this organization with an input (its input node receives it) and emits that flow’s output.',
  category: 'flow',
  params: z.strictObject({
    flowId: ref('flow', z.uuid()),
    input: z.unknown().optional().describe('default: this node’s input'),
  }),
  outputs: ['main'],
  execute: async ({ params, input, ctx }) => {
    const r = await ctx.flows.run(params.flowId, params.input === undefined ? input : params.input);
    ctx.log('info', `sub-flow execution ${r.executionId}`);
    return { main: r.output };
  },
});

export const waitNode = defineNode({
  type: 'core.wait',
  version: 1,
  title: 'Wait',
  description:
    'Pauses the execution: for a duration, until a time, or until its resume URL ($execution.resumeUrl) is called. Long waits are durable (the execution is parked in the database, no worker held). A resume emits the request body on "main"; a webhook wait that times out emits the input on "timeout".',
  category: 'flow',
  params: z.strictObject({
    mode: z.enum(['duration', 'until', 'webhook']).default('duration'),
    seconds: z
      .number()
      .min(0)
      .max(365 * 86400)
      .default(1),
    until: z.iso.datetime({ offset: true }).optional().describe('mode until: an ISO time'),
    timeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(365 * 86400)
      .default(7 * 86400)
      .describe('mode webhook: give up after this long'),
  }),
  outputs: ['main', 'timeout'],
  control: 'wait',
  execute: async ({ params, ctx }) => {
    const now = ctx.now().getTime();
    if (params.mode === 'until' && !params.until) throw new NodeError('mode "until" needs a time.', { code: 'WAIT_INVALID', retryable: false });
    const at =
      params.mode === 'duration' ? now + params.seconds * 1000 : params.mode === 'until' ? Date.parse(params.until!) : now + params.timeoutSeconds * 1000;
    return Promise.resolve({ main: { resumeAt: new Date(at).toISOString(), webhook: params.mode === 'webhook' } });
  },
});

export const noopNode = defineNode({
  type: 'core.noop',
  pure: true,
  version: 1,
  title: 'No operation',
  description: 'Passes its input through unchanged (a joint for wiring, or a placeholder to pin data on).',
  category: 'flow',
  params: z.strictObject({}),
  outputs: ['main'],
  execute: async ({ input }) => Promise.resolve({ main: input }),
});

export const coreNodes = [inputNode, outputNode, respondNode, transformNode, setNode, ifNode, switchNode, mergeNode, loopNode, subflowNode, waitNode, noopNode];
