import { type AiCapability, NodeError, type WriteOptions } from '@infinity/node-sdk';
import { OutboundRefused, type OutboundHttp } from '../../platform/net/outbound-http.js';
import type { FlowActor } from '../access/index.js';
import { type ActionsContext, runAction } from '../actions/index.js';
import { type AiContext, chat, embedTexts } from '../ai/index.js';
import type { Capabilities } from '../engine/index.js';
import { type RecordsContext, type TransactionGuard, getRecord, withRecordOps } from '../records/index.js';
import { type VectorsContext, searchRecords } from '../vectors/index.js';
import { type VaultContext, secretUse } from '../vault/index.js';
import { onceInTransaction } from './executions.repo.js';

/** The modules a flow's nodes reach (each call acts as the flow, editor role, in its organization). */
export interface NodeServices {
  records: RecordsContext;
  vectors: VectorsContext;
  actions: ActionsContext;
  vault: VaultContext;
  outbound: OutboundHttp;
  ai: AiContext;
}

/** The agent node's capability for one flow actor (offered by the agents module). */
export type AgentNode = AiCapability['agent'];

/** A text field of a stored run error (`{ message, code }` as JSON), whatever its shape. */
function errorField(error: unknown, field: 'message' | 'code'): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const v: unknown = Reflect.get(error, field);
  return typeof v === 'string' ? v : undefined;
}

/** What a flow's nodes may use, acting as the flow (editor role) in its organization; sub-flows are added by the runner's module. */
export function flowCapabilities(actor: FlowActor, d: NodeServices & { agent: AgentNode }): Omit<Capabilities, 'flows'> {
  const source = `flow ${actor.flowId}`;
  // A write with an idempotency key is applied once per execution and key, in its own transaction.
  const once = (opts: WriteOptions | undefined): TransactionGuard | undefined => {
    const key = opts?.idempotencyKey;
    return key ? (trx, run) => onceInTransaction(trx, actor.executionId, key, run) : undefined;
  };
  // The secrets this execution uses: where they may be sent, and what to mask in its records.
  const used = secretUse(d.vault, actor, source);
  return {
    records: {
      query: async (model, q = {}) =>
        (
          await withRecordOps(d.records, actor, (ops) =>
            ops.query(model, {
              ...(q.filter ? { filter: q.filter } : {}),
              ...(q.sort ? { sort: q.sort } : {}),
              ...(q.limit ? { limit: q.limit } : {}),
              ...(q.offset ? { offset: q.offset } : {}),
            }),
          )
        ).items,
      get: (model, id) => getRecord(d.records, actor, model, id),
      create: (model, values, opts) => withRecordOps(d.records, actor, (ops) => ops.create(model, values), once(opts)),
      update: (model, id, values, opts) => withRecordOps(d.records, actor, (ops) => ops.update(model, id, values), once(opts)),
      delete: async (model, id, opts) => {
        await withRecordOps(d.records, actor, (ops) => ops.remove(model, id), once(opts));
      },
      search: async (model, q) => (await searchRecords(d.vectors, actor, model, { k: 10, mode: 'vector', ...q })).data.map((r) => ({ score: r._score, ...r })),
    },
    ai: {
      chat: async (call) => {
        const r = await chat(d.ai, actor, { ...call, source });
        return {
          text: r.text,
          ...(r.object === undefined ? {} : { object: r.object }),
          provider: r.provider,
          model: r.model,
          finishReason: r.finishReason,
          usage: r.usage,
          latencyMs: r.latencyMs,
        };
      },
      embed: (call) =>
        embedTexts(
          d.ai,
          actor,
          {
            provider: call.provider,
            model: call.model ?? (call.provider === 'local' ? 'local-lexical' : 'text-embedding-ada-002'),
            dimensions: call.dimensions ?? 1536,
            secretId: call.secretId,
          },
          call.texts,
          source,
        ),
      agent: d.agent,
    },
    actions: {
      run: async (id, params, opts) => {
        const run = await runAction(d.actions, actor, id, params, once(opts));
        if (run.status === 'failed')
          throw new NodeError(`Action failed: ${errorField(run.error, 'message') ?? 'error'}`, {
            code: errorField(run.error, 'code') ?? 'ACTION_RUN_FAILED',
            details: { runId: run.id },
            retryable: false,
          });
        return run.output;
      },
    },
    secrets: { reveal: (id) => used.reveal(id) },
    redact: (value) => used.redact(value),
    http: {
      request: async (req) => {
        used.checkOutbound(req);
        try {
          return await d.outbound.request({ ...req, onRedirect: (next) => used.checkOutbound(req, next) });
        } catch (err) {
          if (err instanceof OutboundRefused) throw new NodeError(err.message, { code: 'HTTP_REFUSED', details: { reason: err.reason }, retryable: false });
          throw err;
        }
      },
    },
  };
}
