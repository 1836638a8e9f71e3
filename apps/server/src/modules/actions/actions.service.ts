import type { Kysely } from 'kysely';
import { type Expected, isCurrent, preconditionFailed } from '../../platform/concurrency.js';
import { inTransaction, isUniqueViolation } from '../../platform/db/index.js';
import { AppError } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import { type OrgActor, actorRef } from '../access/index.js';
import { recordAudit } from '../audit/index.js';
import { type RecordsContext, type RecordOps, type TransactionGuard, withRecordOps } from '../records/index.js';
import { actionErrors } from './actions.errors.js';
import * as repo from './actions.repo.js';
import { type ActionCreate, type Param, type Step, bindParams, definitionProblems, modelProblems, resolve } from './definition.js';

export interface ActionsContext {
  db: Kysely<repo.ActionTables>;
  records: RecordsContext;
}

type OrgModelsOf = Awaited<ReturnType<ActionsContext['records']['cache']['get']>>;

/** NB: the models are read before any transaction (on PGlite a read outside an open transaction would wait for it). */
function checkDefinition(def: { params: Param[]; steps: Step[] }, models: OrgModelsOf) {
  const problems = [...definitionProblems(def), ...modelProblems(def, models)];
  if (problems.length) throw actionErrors.ACTION_INVALID(`The action has ${problems.length} problem(s): ${problems[0]!.message}.`, problems);
}

type ActionRow = Awaited<ReturnType<typeof repo.insertAction>>;
const toAction = (r: ActionRow) => ({
  id: r.id,
  name: r.name,
  description: r.description,
  params: r.params,
  steps: r.steps,
  createdBy: r.created_by,
  version: r.version,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});
type RunRow = NonNullable<Awaited<ReturnType<typeof repo.findRun>>>;
export const toRun = (r: RunRow) => ({
  id: r.id,
  actionId: r.action_id,
  status: r.status,
  input: r.input,
  output: r.output,
  error: r.error,
  logs: r.logs,
  actor: r.actor,
  startedAt: r.started_at?.toISOString() ?? null,
  finishedAt: r.finished_at?.toISOString() ?? null,
  durationMs: r.duration_ms,
  createdAt: r.created_at.toISOString(),
});

const taken = (err: unknown): never => {
  if (isUniqueViolation(err)) throw actionErrors.ACTION_NAME_TAKEN();
  throw err;
};

export async function createAction(ctx: ActionsContext, actor: OrgActor, input: ActionCreate, ip: string) {
  checkDefinition(input, await ctx.records.cache.get(actor.orgId));
  return inTransaction(ctx.db, async ({ trx }) => {
    const row = await repo.insertAction(trx, {
      id: newId(),
      orgId: actor.orgId,
      name: input.name,
      description: input.description ?? '',
      params: input.params,
      steps: input.steps,
      createdBy: actorRef(actor),
    });
    await recordAudit(trx, { orgId: actor.orgId, actor, action: 'ACTION_CREATE', target: { type: 'action', id: row.id }, ip, details: { name: row.name } });
    return toAction(row);
  }).catch(taken);
}

export async function listActions(ctx: ActionsContext, actor: OrgActor, limit: number, offset: number) {
  return (await repo.listActions(ctx.db, actor.orgId, limit, offset)).map(toAction);
}

export const countActions = (ctx: ActionsContext, actor: OrgActor) => repo.countActions(ctx.db, actor.orgId);

export async function getAction(ctx: ActionsContext, actor: OrgActor, id: string) {
  const row = await repo.findAction(ctx.db, actor.orgId, id);
  if (!row) throw actionErrors.ACTION_NOT_FOUND();
  return toAction(row);
}

/** The row is read locked in the write's transaction: the patch merges into what is current, and `expected` (If-Match) is checked against it. */
export async function updateAction(ctx: ActionsContext, actor: OrgActor, id: string, patch: Partial<ActionCreate>, ip: string, expected?: Expected) {
  const models = await ctx.records.cache.get(actor.orgId);
  return inTransaction(ctx.db, async ({ trx }) => {
    const current = await repo.lockAction(trx, actor.orgId, id);
    if (!current) throw actionErrors.ACTION_NOT_FOUND();
    if (!isCurrent(expected, current.version)) throw preconditionFailed('action', current.version);
    const next = {
      name: patch.name ?? current.name,
      description: patch.description ?? current.description,
      params: patch.params ?? current.params,
      steps: patch.steps ?? current.steps,
    };
    checkDefinition(next, models);
    const row = await repo.updateAction(trx, actor.orgId, id, next);
    if (!row) throw actionErrors.ACTION_NOT_FOUND();
    await recordAudit(trx, { orgId: actor.orgId, actor, action: 'ACTION_UPDATE', target: { type: 'action', id }, ip, details: { fields: Object.keys(patch) } });
    return toAction(row);
  }).catch(taken);
}

export async function deleteAction(ctx: ActionsContext, actor: OrgActor, id: string, ip: string, expected?: Expected) {
  await inTransaction(ctx.db, async ({ trx }) => {
    const current = await repo.lockAction(trx, actor.orgId, id);
    if (!current) throw actionErrors.ACTION_NOT_FOUND();
    if (!isCurrent(expected, current.version)) throw preconditionFailed('action', current.version);
    const row = await repo.deleteAction(trx, actor.orgId, id);
    if (!row) throw actionErrors.ACTION_NOT_FOUND();
    await recordAudit(trx, { orgId: actor.orgId, actor, action: 'ACTION_DELETE', target: { type: 'action', id }, ip });
  });
}

async function runStep(ops: RecordOps, step: Step, scope: Record<string, unknown>): Promise<unknown> {
  switch (step.op) {
    case 'create':
      return ops.create(step.model, resolve(step.values, scope));
    case 'update':
      return ops.update(step.model, String(resolve(step.recordId, scope)), resolve(step.values, scope));
    case 'upsert':
      return ops.upsert(step.model, step.key, resolve(step.values, scope));
    case 'delete':
      return ops.remove(step.model, String(resolve(step.recordId, scope)));
    case 'query':
      return ops.query(step.model, {
        filter: resolve(step.filter, scope),
        ...(step.sort ? { sort: step.sort } : {}),
        ...(step.limit ? { limit: step.limit } : {}),
      });
    default: {
      const never: never = step;
      return never;
    }
  }
}

/**
 * Runs the action's steps in one transaction. The run is recorded as running before, and as
 * succeeded or failed after, with its input, output, error, timing and a log line per step.
 */
export async function runAction(ctx: ActionsContext, actor: OrgActor, id: string, given: Record<string, unknown>, guard?: TransactionGuard) {
  const action = await getAction(ctx, actor, id);
  const { params, problems } = bindParams(action.params, given);
  if (problems.length)
    throw actionErrors.ACTION_PARAMS_INVALID(`${problems.length} parameter problem(s): ${problems[0]!.field} ${problems[0]!.message}.`, problems);
  const runId = newId();
  const started = performance.now();
  const logs: { at: string; step: string | null; message: string }[] = [];
  const log = (step: string | null, message: string) => logs.push({ at: new Date().toISOString(), step, message });
  await repo.insertRun(ctx.db, { id: runId, orgId: actor.orgId, actionId: id, input: params, actor: actorRef(actor) });
  let current: string | null = null;
  try {
    const steps = await withRecordOps(
      ctx.records,
      actor,
      async (ops) => {
        const results: Record<string, unknown> = {};
        for (const step of action.steps) {
          current = step.id;
          const t = performance.now();
          results[step.id] = await runStep(ops, step, { params, steps: results });
          log(step.id, `${step.op} ${step.model}: ok in ${(performance.now() - t).toFixed(1)} ms`);
        }
        return results;
      },
      guard,
    );
    const durationMs = performance.now() - started;
    log(null, `succeeded in ${durationMs.toFixed(1)} ms`);
    await repo.finishRun(ctx.db, runId, { status: 'succeeded', output: { steps }, error: undefined, logs, durationMs });
  } catch (err) {
    const durationMs = performance.now() - started;
    const cause = err instanceof AppError ? { code: err.code, message: err.message, details: err.details } : { code: 'INTERNAL', message: 'unexpected error' };
    log(current, `failed: ${cause.message}; every step was rolled back`);
    await repo.finishRun(ctx.db, runId, { status: 'failed', output: undefined, error: { step: current, ...cause }, logs, durationMs });
    if (!(err instanceof AppError)) throw err;
  }
  const run = await repo.findRun(ctx.db, actor.orgId, runId);
  return toRun(run!);
}

export async function listRuns(ctx: ActionsContext, actor: OrgActor, actionId: string, limit: number, offset: number) {
  await getAction(ctx, actor, actionId);
  return (await repo.listRuns(ctx.db, actor.orgId, actionId, limit, offset)).map(toRun);
}

/** How many runs listRuns pages through (meta.total); the caller has checked the action exists. */
export const countRuns = (ctx: ActionsContext, actor: OrgActor, actionId: string) => repo.countRuns(ctx.db, actor.orgId, actionId);

export async function getRun(ctx: ActionsContext, actor: OrgActor, runId: string) {
  const r = await repo.findRun(ctx.db, actor.orgId, runId);
  if (!r) throw actionErrors.ACTION_RUN_NOT_FOUND();
  return toRun(r);
}

const JSON_TYPES = { string: 'string', integer: 'integer', number: 'number', boolean: 'boolean', json: 'object' } as const;

/** An action as an agent tool: its parameters that are not fixed at definition, as a JSON Schema. */
export async function actionToolSpec(ctx: ActionsContext, actor: OrgActor, id: string) {
  const row = await repo.findAction(ctx.db, actor.orgId, id);
  if (!row) return null;
  const a = toAction(row);
  const open = a.params.filter((p) => p.value === undefined);
  return {
    name: a.name,
    description: a.description ?? '',
    inputSchema: {
      type: 'object',
      properties: Object.fromEntries(open.map((p) => [p.name, { type: JSON_TYPES[p.type], ...(p.description ? { description: p.description } : {}) }])),
      required: open.filter((p) => p.required && p.default === undefined).map((p) => p.name),
      additionalProperties: false,
    },
  };
}
