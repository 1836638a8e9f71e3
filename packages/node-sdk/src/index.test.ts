import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { NodeError, defineNode, defineTrigger, describeNode } from './index.js';
import { memoryRecords, runNode } from './testing.js';

const slugify = defineNode({
  type: 'acme.slugify',
  version: 1,
  title: 'Slugify',
  description: 'Turns a field into a slug.',
  category: 'transform',
  params: z.strictObject({ field: z.string().min(1), maxLength: z.number().int().default(80) }),
  outputs: ['main', 'empty'],
  execute: async ({ params, input, ctx }) => {
    expectTypeOf(params).toEqualTypeOf<{ field: string; maxLength: number }>();
    const text = (input as Record<string, unknown>)[params.field];
    if (typeof text !== 'string') throw new NodeError(`${params.field} is not text`, { code: 'BAD', retryable: false });
    const slug = text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, params.maxLength);
    ctx.log('info', 'slugged');
    return Promise.resolve(slug ? { main: { slug } } : { empty: input });
  },
});

describe('node SDK', () => {
  it('runs a node with parsed, defaulted parameters and collects its log', async () => {
    const { result, logs } = await runNode(slugify, { params: { field: 'title' }, input: { title: 'Hello, World!' } });
    expect(result).toEqual({ main: { slug: 'hello-world' } });
    expect(logs).toEqual([{ level: 'info', message: 'slugged' }]);
    expect((await runNode(slugify, { params: { field: 'title', maxLength: 3 }, input: { title: '!!!' } })).result).toEqual({ empty: { title: '!!!' } });
  });

  it('refuses bad parameters before executing, and surfaces node errors', async () => {
    await expect(runNode(slugify, { params: { field: '' }, input: {} })).rejects.toThrow();
    await expect(runNode(slugify, { params: { field: 'x' }, input: { x: 1 } })).rejects.toMatchObject({ code: 'BAD', retryable: false });
  });

  it('describes a node with the JSON Schema of its parameters', () => {
    const d = describeNode(slugify);
    expect(d).toMatchObject({ type: 'acme.slugify', kind: 'node', inputs: ['main'], outputs: ['main', 'empty'] });
    expect(d.params).toMatchObject({
      type: 'object',
      properties: { field: { type: 'string', minLength: 1 }, maxLength: { type: 'integer', default: 80 } },
      required: ['field'],
    });
  });

  it('checks definitions: type names, versions, ports', () => {
    const base = {
      version: 1,
      title: 't',
      description: 'd',
      category: 'flow' as const,
      params: z.object({}),
      outputs: ['main'] as const,
      execute: async () => Promise.resolve({}),
    };
    expect(() => defineNode({ ...base, type: 'NoDot' })).toThrow(/vendor\.name/);
    expect(() => defineNode({ ...base, type: 'a.b', version: 0 })).toThrow(/version/);
    expect(() => defineNode({ ...base, type: 'a.b', outputs: [] })).toThrow(/output/);
    expect(defineTrigger({ ...base, type: 'a.trigger' })).toMatchObject({ kind: 'trigger', inputs: [] });
  });

  it('types and checks the input when the node declares an input schema', async () => {
    const total = defineNode({
      type: 'acme.total',
      version: 1,
      title: 'Total',
      description: 'Sums line amounts.',
      category: 'transform',
      params: z.strictObject({}),
      input: z.object({ lines: z.array(z.object({ amount: z.number() })) }),
      outputs: ['main'],
      execute: async ({ input }) => {
        expectTypeOf(input).toEqualTypeOf<{ lines: { amount: number }[] }>();
        return Promise.resolve({ main: input.lines.reduce((a, l) => a + l.amount, 0) });
      },
    });
    expect((await runNode(total, { params: {}, input: { lines: [{ amount: 2 }, { amount: 3 }] } })).result).toEqual({ main: 5 });
    await expect(runNode(total, { params: {}, input: { lines: [{ amount: 'x' }] } })).rejects.toThrow();
    expect(describeNode(total).input).toMatchObject({ type: 'object', required: ['lines'] });
    // Without a schema the input is unknown: a node narrows it itself.
    expectTypeOf<Parameters<typeof slugify.execute>[0]['input']>().toEqualTypeOf<unknown>();
  });

  it('gives capabilities only when passed; memoryRecords stands in for records', async () => {
    const save = defineNode({
      type: 'acme.save',
      version: 1,
      title: 'Save',
      description: 'Saves the input.',
      category: 'data',
      params: z.strictObject({ model: z.string() }),
      outputs: ['main'],
      execute: async ({ params, input, ctx }) => ({ main: await ctx.records.create(params.model, input as Record<string, unknown>) }),
    });
    await expect(runNode(save, { params: { model: 'leads' }, input: { a: 1 } })).rejects.toThrow(/records is not provided/);
    const records = memoryRecords();
    const { result } = await runNode(save, { params: { model: 'leads' }, input: { email: 'a@b.c' }, ctx: { records } });
    expect(result.main).toMatchObject({ email: 'a@b.c', id: expect.any(String) });
    expect(await records.query('leads', { filter: { email: { eq: 'a@b.c' } } })).toHaveLength(1);
  });

  it('regression (#25): the test kit’s not-found error had no code, so a get node’s notFound branch could not be tested', async () => {
    // The shape of the built-in data.get: a missing record goes out on "notFound", by its error code.
    const get = defineNode({
      type: 'acme.get',
      version: 1,
      title: 'Get',
      description: 'Reads a record by id.',
      category: 'data',
      params: z.strictObject({ model: z.string(), id: z.string() }),
      outputs: ['main', 'notFound'],
      execute: async ({ params, ctx }) => {
        try {
          return { main: await ctx.records.get(params.model, params.id) };
        } catch (err) {
          if ((err as { code?: string }).code === 'RECORD_NOT_FOUND') return { notFound: { id: params.id } };
          throw err;
        }
      },
    });
    const records = memoryRecords({ leads: [{ id: 'r1', email: 'a@b.c' }] });
    expect((await runNode(get, { params: { model: 'leads', id: 'r1' }, ctx: { records } })).result).toEqual({ main: { id: 'r1', email: 'a@b.c' } });
    expect((await runNode(get, { params: { model: 'leads', id: 'nope' }, ctx: { records } })).result).toEqual({ notFound: { id: 'nope' } });
    await expect(records.update('leads', 'nope', {})).rejects.toMatchObject({ code: 'RECORD_NOT_FOUND' });
    await expect(records.delete('leads', 'nope')).rejects.toMatchObject({ code: 'RECORD_NOT_FOUND' });
  });

  it('memoryRecords honours offset, and applies a write once per idempotency key like the server', async () => {
    const records = memoryRecords({ n: [0, 1, 2, 3, 4].map((i) => ({ id: `r${i}`, i })) });
    expect((await records.query('n', { limit: 2, offset: 2 })).map((r) => r.i)).toEqual([2, 3]);
    const a = await records.create('n', { i: 9 }, { idempotencyKey: 'x:save:0' });
    const b = await records.create('n', { i: 9 }, { idempotencyKey: 'x:save:0' });
    expect(b).toEqual(a);
    expect(records.tables.n).toHaveLength(6);
    // The key a node gets: stable across attempts, per loop item when run as one.
    const key = defineNode({
      type: 'acme.key',
      version: 1,
      title: 'Key',
      description: '',
      category: 'data',
      params: z.strictObject({}),
      outputs: ['main'],
      execute: async ({ ctx }) => Promise.resolve({ main: ctx.idempotencyKey }),
    });
    expect((await runNode(key, { params: {}, attempt: 2 })).result.main).toMatch(/^[0-9a-f-]{36}:node$/);
    expect((await runNode(key, { params: {}, item: '3' })).result.main).toMatch(/^[0-9a-f-]{36}:node:3$/);
  });

  it('NodeError takes an options object; each option has a default', () => {
    const bare = new NodeError('it broke');
    expect({ code: bare.code, details: bare.details, retryable: bare.retryable, cause: bare.cause }).toEqual({
      code: 'NODE_FAILED',
      details: undefined,
      retryable: true,
      cause: undefined,
    });
    const root = new Error('socket hang up');
    const full = new NodeError('The answer is not JSON.', { code: 'HTTP_BAD_RESPONSE', details: { status: 200 }, retryable: false, cause: root });
    expect(full).toBeInstanceOf(Error);
    expect({ name: full.name, message: full.message, code: full.code, details: full.details, retryable: full.retryable, cause: full.cause }).toEqual({
      name: 'NodeError',
      message: 'The answer is not JSON.',
      code: 'HTTP_BAD_RESPONSE',
      details: { status: 200 },
      retryable: false,
      cause: root,
    });
  });
});
