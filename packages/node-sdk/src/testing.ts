/**
 * A test kit for node authors: run one node with parameters and input, without a server.
 *
 *   const { result, logs } = await runNode(upper, { params: { field: 'name' }, input: { name: 'ada' } });
 *   expect(result.main).toEqual({ name: 'ADA' });
 */
import { randomUUID } from 'node:crypto';
import type { ZodType, z } from 'zod';
import { type LogLevel, type NodeContext, type NodeDefinition, type NodeResult, type RecordData, type RecordsCapability, NodeError } from './index.js';

export interface RunNodeOptions {
  params: unknown;
  input?: unknown;
  inputs?: unknown[];
  attempt?: number;
  /** The loop item the node runs for (its index), as in a loop body; its idempotency key ends with it. */
  item?: string;
  /** Capabilities the node uses; any left out throws when called. */
  ctx?: Partial<Omit<NodeContext, 'log' | 'executionId' | 'nodeId' | 'idempotencyKey' | 'attempt'>>;
}

export interface LogLine {
  level: LogLevel;
  message: string;
  data?: Record<string, unknown>;
}

const missing = (what: string) => () => Promise.reject(new Error(`${what} is not provided in this test: pass it in runNode({ ctx })`));

export async function runNode<P extends ZodType, O extends string, I extends ZodType>(
  def: NodeDefinition<P, O, I>,
  opts: RunNodeOptions,
): Promise<{ result: NodeResult<O>; logs: LogLine[] }> {
  const params = (await def.params.parseAsync(opts.params)) as z.output<P>;
  const logs: LogLine[] = [];
  const executionId = randomUUID();
  const attempt = opts.attempt ?? 1;
  const ctx: NodeContext = {
    executionId,
    nodeId: 'node',
    nodeName: def.title,
    attempt,
    idempotencyKey: opts.item === undefined ? `${executionId}:node` : `${executionId}:node:${opts.item}`,
    records: opts.ctx?.records ?? {
      query: missing('records'),
      get: missing('records'),
      create: missing('records'),
      update: missing('records'),
      delete: missing('records'),
      search: missing('records'),
    },
    ai: opts.ctx?.ai ?? { chat: missing('ai'), embed: missing('ai'), agent: missing('ai') },
    actions: opts.ctx?.actions ?? { run: missing('actions') },
    secrets: opts.ctx?.secrets ?? { reveal: missing('secrets') },
    http: opts.ctx?.http ?? { request: missing('http') },
    expression: opts.ctx?.expression ?? missing('expression'),
    flows: opts.ctx?.flows ?? { run: missing('flows') },
    signal: opts.ctx?.signal ?? new AbortController().signal,
    now: opts.ctx?.now ?? (() => new Date()),
    log: (level, message, data) => logs.push({ level, message, ...(data ? { data } : {}) }),
  };
  const raw = opts.input ?? null;
  const input = (def.input ? await def.input.parseAsync(raw) : raw) as z.output<I>;
  const result = await def.execute({ params, input, inputs: opts.inputs ?? [raw], ctx });
  return { result, logs };
}

const words = (v: string | undefined) => new Set((v ?? '').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);

/** What the server's records capability rejects with for a missing record: `code` RECORD_NOT_FOUND. */
export const recordNotFound = (model: string, id: string) =>
  new NodeError(`No ${model} record ${id}.`, { code: 'RECORD_NOT_FOUND', details: { model, id }, retryable: false });

/**
 * An in-memory records capability for node tests: equality filters only, and a search that
 * scores records by the share of query words they contain (a stand-in for similarity). Like the
 * server: a missing record rejects with code RECORD_NOT_FOUND, and a write with an
 * `idempotencyKey` seen before returns the first write's result without writing again.
 */
export function memoryRecords(seed: Record<string, RecordData[]> = {}): RecordsCapability & { tables: Record<string, RecordData[]> } {
  const tables: Record<string, RecordData[]> = structuredClone(seed);
  const rows = (model: string) => (tables[model] ??= []);
  const find = async (model: string, id: string) => {
    const r = rows(model).find((x) => x.id === id);
    if (!r) throw recordNotFound(model, id);
    return Promise.resolve(r);
  };
  const applied = new Map<string, unknown>();
  const once = async <T>(key: string | undefined, write: () => Promise<T>): Promise<T> => {
    if (key !== undefined && applied.has(key)) return applied.get(key) as T;
    const r = await write();
    if (key !== undefined) applied.set(key, structuredClone(r));
    return r;
  };
  return {
    tables,
    query: async (model, q = {}) => {
      const filter = q.filter ?? {};
      const hit = rows(model).filter((r) =>
        Object.entries(filter).every(([k, v]) => (typeof v === 'object' && v !== null && 'eq' in v ? r[k] === v.eq : r[k] === v)),
      );
      return Promise.resolve(hit.slice(q.offset ?? 0, (q.offset ?? 0) + (q.limit ?? 50)));
    },
    get: async (model, id) => find(model, id),
    create: async (model, values, opts) =>
      once(opts?.idempotencyKey, async () => {
        const now = new Date().toISOString();
        const r = { id: randomUUID(), createdAt: now, updatedAt: now, ...values };
        rows(model).push(r);
        return Promise.resolve(r);
      }),
    update: async (model, id, values, opts) =>
      once(opts?.idempotencyKey, async () => Object.assign(await find(model, id), values, { updatedAt: new Date().toISOString() })),
    delete: async (model, id, opts) =>
      once(opts?.idempotencyKey, async () => {
        await find(model, id);
        tables[model] = rows(model).filter((r) => r.id !== id);
      }),
    search: async (model, q) => {
      const want = words(q.query);
      const scored = rows(model).map((r) => {
        const have = words(
          Object.values(r)
            .filter((x) => typeof x === 'string')
            .join(' '),
        );
        const score = want.size ? [...want].filter((w) => have.has(w)).length / want.size : 0;
        return { score, ...r, _score: score };
      });
      return Promise.resolve(
        scored
          .filter((r) => r._score > (q.threshold ?? 0))
          .sort((a, b) => b._score - a._score)
          .slice(0, q.k ?? 10),
      );
    },
  };
}
