import type { Kysely, Transaction } from 'kysely';
import type { QuotaGate } from '../usage/index.js';
import { type Expected, isCurrent, preconditionFailed } from '../../platform/concurrency.js';
import { inTransaction, isUniqueViolation, pgErrorCode } from '../../platform/db/index.js';
import { AppError } from '../../platform/errors.js';
import type { EventOf, EventSpine, SpineUnitOfWork } from '../../platform/events/index.js';
import { newId } from '../../platform/ids.js';
import { type OrgActor, actorLabel, actorRef } from '../access/index.js';
import { recordAudit } from '../audit/index.js';
import * as ddl from './ddl.js';
import { type EmbeddingConfig, type FieldDef, type ModelChange, type ModelCreate, type ModelDef, fieldProblems, modelCreateSchema } from './fields.js';
import { type ModelCache, inverseRelations, toModel } from './model-cache.js';
import { schemaErrors } from './schema.errors.js';
import * as repo from './schema.repo.js';

export interface SchemaContext {
  db: Kysely<repo.SchemaTables>;
  cache: ModelCache;
  /** pgvector is installed: embeddings are vector(d) with an HNSW index, else real[]. */
  vector?: boolean;
  /** The plan's model limit. */
  quota: QuotaGate;
  /** model.changed is emitted in the DDL transaction; every process's ModelCache follows it. */
  events: EventSpine;
}

/**
 * model.changed, delivered after the DDL commits. The writing process also forgets its cache at
 * commit itself, so its next request sees the change whenever the event reaches its listeners.
 */
function modelChanged(ctx: SchemaContext, uow: SpineUnitOfWork, actor: OrgActor, model: string, change: EventOf<'model.changed'>['change']) {
  ctx.events.emit(uow, {
    type: 'model.changed',
    orgId: actor.orgId,
    permission: 'models:read',
    model,
    change,
    actor: { type: actor.kind, id: actorLabel(actor).id },
  });
}

type Trx = Transaction<repo.SchemaTables>;
const asObj = (trx: Trx) => trx as unknown as Transaction<object>;

function unsafe(field: string, reason: string, fix: string): never {
  throw schemaErrors.MODEL_CHANGE_UNSAFE(`${field}: ${reason}. ${fix}`, { field, reason, fix });
}

/** Turns a database refusal during DDL into a 422 that names the field. */
async function onField<T>(field: string, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    switch (pgErrorCode(err)) {
      case '23514':
        return unsafe(field, `existing rows do not satisfy the new ${what}`, 'Fix those values first, or relax the constraint');
      case '23505':
        return unsafe(field, 'existing rows hold duplicate values', 'Remove the duplicates first, or leave the field non-unique');
      case '23502':
        return unsafe(field, 'existing rows have no value', 'Give a default, or fill the values first');
      case '22P02':
      case '22007':
      case '22008':
      case '22003':
      case '42804':
        return unsafe(field, `existing values cannot be converted (${what})`, 'Convert or clear those values first, or add a new field and copy');
      default:
        throw err;
    }
  }
}

async function requireTargets(trx: Trx, orgId: string, self: string, fields: FieldDef[]) {
  for (const f of fields) {
    if (f.type !== 'relation' || f.target === self) continue;
    if (!(await repo.findModel(trx, orgId, f.target))) {
      throw schemaErrors.MODEL_RELATION_TARGET_MISSING(`Field "${f.name}" relates to "${f.target}", which does not exist. Create it first.`, {
        field: f.name,
        target: f.target,
      });
    }
  }
}

function assertConsistent(fields: FieldDef[]) {
  const problems = fieldProblems(fields);
  if (problems.length) throw schemaErrors.MODEL_INVALID(`The model definition has ${problems.length} problem(s): ${problems[0]!.message}.`, problems);
}

export async function createModel(ctx: SchemaContext, actor: OrgActor, input: ModelCreate, ip: string): Promise<ModelDef> {
  assertConsistent(input.fields);
  await ctx.quota.check(actor.orgId, 'models', 1);
  return inTransaction(ctx.db, async (uow) => {
    const { trx, afterCommit } = uow;
    const schema = await repo.orgSchemaName(trx, actor.orgId);
    if (await repo.findModel(trx, actor.orgId, input.name)) throw schemaErrors.MODEL_NAME_TAKEN();
    await requireTargets(trx, actor.orgId, input.name, input.fields);
    await ddl.createModelTable(asObj(trx), schema, input.name);
    for (const f of input.fields) await ddl.addField(asObj(trx), schema, input.name, f);
    const row = await repo.insertModel(trx, {
      id: newId(),
      orgId: actor.orgId,
      name: input.name,
      label: input.label ?? input.name,
      description: input.description ?? '',
      fields: input.fields,
    });
    await repo.insertVersion(trx, {
      id: newId(),
      orgId: actor.orgId,
      modelId: row.id,
      version: 1,
      change: { create: input },
      fields: input.fields,
      name: input.name,
      actor: actorRef(actor),
    });
    await recordAudit(trx, {
      orgId: actor.orgId,
      actor,
      action: 'MODEL_CREATE',
      target: { type: 'model', id: row.id },
      ip,
      details: { name: input.name, fields: input.fields.length },
    });
    modelChanged(ctx, uow, actor, input.name, 'created');
    afterCommit(() => {
      ctx.cache.forget(actor.orgId);
      ctx.quota.grew(actor.orgId, 'models', 1);
    });
    return toModel(row);
  }).catch((err: unknown) => {
    if (isUniqueViolation(err)) throw schemaErrors.MODEL_NAME_TAKEN();
    throw err;
  });
}

/**
 * Creates a model from a definition (validated as POST /models does) unless the organization has
 * one of that name already, which is left as it is. For templates that write to their own models.
 */
export async function ensureModel(ctx: SchemaContext, actor: OrgActor, def: unknown, ip: string): Promise<{ created: boolean }> {
  const input = modelCreateSchema.parse(def);
  if ((await ctx.cache.get(actor.orgId)).byName.has(input.name)) return { created: false };
  try {
    await createModel(ctx, actor, input, ip);
    return { created: true };
  } catch (err) {
    // Made meanwhile by another request: it exists now, which is what was asked.
    if (err instanceof AppError && err.code === 'MODEL_NAME_TAKEN') return { created: false };
    throw err;
  }
}

/** Conversions Postgres performs for every value, or refuses as a whole (then nothing changes). */
const CONVERTIBLE: Record<string, string[]> = {
  string: ['text', 'enum', 'integer', 'number', 'boolean', 'date', 'datetime'],
  text: ['string', 'enum', 'integer', 'number', 'boolean', 'date', 'datetime'],
  enum: ['string', 'text'],
  integer: ['number', 'string', 'text'],
  number: ['integer', 'string', 'text'],
  boolean: ['string', 'text'],
  date: ['datetime', 'string', 'text'],
  datetime: ['string', 'text'],
  json: [],
  array: [],
  relation: [],
};

async function changeField(trx: Trx, schema: string, table: string, from: FieldDef, to: FieldDef, hasData: boolean) {
  const t = asObj(trx);
  const name = to.name;
  if ((from.type === 'relation') !== (to.type === 'relation'))
    unsafe(name, 'a relation cannot become a plain field or the reverse', 'Drop the field and add a new one');
  if (from.type === 'relation' && to.type === 'relation' && from.target !== to.target)
    unsafe(name, 'a relation cannot change its target', 'Drop the field and add a new one');
  if (from.type === 'array' && to.type === 'array' && from.items !== to.items)
    unsafe(name, `array items cannot change from ${from.items} to ${to.items}`, 'Add a new field and copy the values');
  if (from.type !== to.type && !CONVERTIBLE[from.type]?.includes(to.type)) {
    unsafe(name, `${from.type} cannot be converted to ${to.type}`, 'Add a new field of the new type and copy the values');
  }
  if (from.type === 'number' && to.type === 'integer' && hasData) {
    const fractional = await ddl.countWhere(t, schema, table, ddl.fractionalWhere(name));
    if (fractional > 0) unsafe(name, `${fractional} row(s) hold fractional numbers that integer would round`, 'Round them first');
  }
  await ddl.dropConstraints(t, schema, table, name);
  if (ddl.columnType(from) !== ddl.columnType(to)) await onField(name, `type ${to.type}`, () => ddl.alterType(t, schema, table, name, to));
  if (to.required && hasData) {
    const empty = await ddl.countWhere(t, schema, table, ddl.isNullWhere(name));
    if (empty > 0) {
      if (!('default' in to) || to.default === undefined)
        unsafe(name, `${empty} row(s) have no value, so it cannot become required`, 'Give a default to fill them, or fill the values first');
      await ddl.fillNulls(t, schema, table, to);
    }
  }
  if (to.type !== 'relation' && to.unique && hasData) {
    const dups = await ddl.duplicateCount(t, schema, table, name);
    if (dups > 0) unsafe(name, `${dups} value(s) occur more than once, so it cannot become unique`, 'Remove the duplicates first');
  }
  await ddl.setDefault(t, schema, table, to);
  await onField(name, 'constraints', () => ddl.applyConstraints(t, schema, table, to));
}

/** `expected` (If-Match) is checked against the locked row: a change based on an old definition is refused. */
export async function changeModel(ctx: SchemaContext, actor: OrgActor, name: string, change: ModelChange, ip: string, expected?: Expected): Promise<ModelDef> {
  return inTransaction(ctx.db, async (uow) => {
    const { trx, afterCommit } = uow;
    const t = asObj(trx);
    const current = await repo.lockModel(trx, actor.orgId, name);
    if (!current) throw schemaErrors.MODEL_NOT_FOUND();
    if (!isCurrent(expected, current.version)) throw preconditionFailed('model', current.version);
    const schema = await repo.orgSchemaName(trx, actor.orgId);
    let fields = [...current.fields];
    const find = (n: string) => {
      const f = fields.find((x) => x.name === n);
      if (!f) throw schemaErrors.MODEL_FIELD_NOT_FOUND(`Model "${name}" has no field "${n}".`, { field: n });
      return f;
    };
    const hasData = await ddl.hasRows(t, schema, name);

    let embedding: EmbeddingConfig | null = current.embedding;
    const sources = () => (embedding?.enabled ? embedding.sourceFields : []);
    for (const r of change.renameFields ?? []) {
      const f = find(r.from);
      if (embedding && sources().includes(r.from)) embedding = { ...embedding, sourceFields: embedding.sourceFields.map((s) => (s === r.from ? r.to : s)) };
      if (fields.some((x) => x.name === r.to))
        throw schemaErrors.MODEL_INVALID(`Field "${r.to}" exists already.`, [{ field: r.to, code: 'duplicate', message: 'exists already' }]);
      await ddl.renameColumn(t, schema, name, r.from, r.to);
      fields = fields.map((x) => (x === f ? { ...x, name: r.to } : x));
    }
    for (const d of change.dropFields ?? []) {
      find(d);
      if (sources().includes(d)) unsafe(d, 'it is a source field of the model’s embeddings', 'Change embedding.sourceFields or disable embeddings first');
      await ddl.dropColumn(t, schema, name, d);
      fields = fields.filter((x) => x.name !== d);
    }
    for (const u of change.updateFields ?? []) {
      const from = find(u.name);
      if (sources().includes(u.name) && ddl.columnType(from) !== ddl.columnType(u))
        unsafe(u.name, 'it is a source field of the model’s embeddings and must stay text', 'Change embedding.sourceFields or disable embeddings first');
      await changeField(trx, schema, name, from, u, hasData);
      fields = fields.map((x) => (x.name === u.name ? u : x));
    }
    await requireTargets(trx, actor.orgId, name, change.addFields ?? []);
    for (const a of change.addFields ?? []) {
      if (fields.some((x) => x.name === a.name))
        throw schemaErrors.MODEL_INVALID(`Field "${a.name}" exists already.`, [{ field: a.name, code: 'duplicate', message: 'exists already' }]);
      if (a.required && hasData && (!('default' in a) || a.default === undefined)) {
        unsafe(
          a.name,
          'a required field without a default cannot be added to a model that has records',
          'Give it a default, or add it as optional, fill it, then make it required',
        );
      }
      await onField(a.name, 'field', () => ddl.addField(t, schema, name, a));
      fields.push(a);
    }
    assertConsistent(fields);
    if (change.embedding) embedding = await applyEmbedding(t, schema, name, fields, current.embedding, change.embedding, ctx.vector === true);

    let newName = name;
    if (change.rename && change.rename !== name) {
      if (await repo.findModel(trx, actor.orgId, change.rename)) throw schemaErrors.MODEL_NAME_TAKEN();
      await ddl.renameTable(t, schema, name, change.rename);
      newName = change.rename;
      fields = fields.map((f) => (f.type === 'relation' && f.target === name ? { ...f, target: newName } : f));
      // Relations elsewhere follow the table in Postgres; their definitions follow here.
      for (const other of await repo.listModels(trx, actor.orgId)) {
        if (other.id === current.id) continue;
        if (!other.fields.some((f) => f.type === 'relation' && f.target === name)) continue;
        const retargeted = other.fields.map((f) => (f.type === 'relation' && f.target === name ? { ...f, target: newName } : f));
        await repo.updateModel(trx, other.id, {
          name: other.name,
          label: other.label,
          description: other.description,
          fields: retargeted,
          version: other.version + 1,
        });
        await repo.insertVersion(trx, {
          id: newId(),
          orgId: actor.orgId,
          modelId: other.id,
          version: other.version + 1,
          change: { retarget: { from: name, to: newName } },
          fields: retargeted,
          name: other.name,
          actor: actorRef(actor),
        });
        modelChanged(ctx, uow, actor, other.name, 'updated');
      }
    }
    const version = current.version + 1;
    const row = await repo.updateModel(trx, current.id, {
      name: newName,
      label: change.label ?? (current.label === name && change.rename ? newName : current.label),
      description: change.description ?? current.description,
      fields,
      version,
      embedding,
    });
    await repo.insertVersion(trx, { id: newId(), orgId: actor.orgId, modelId: current.id, version, change, fields, name: newName, actor: actorRef(actor) });
    await recordAudit(trx, {
      orgId: actor.orgId,
      actor,
      action: 'MODEL_UPDATE',
      target: { type: 'model', id: current.id },
      ip,
      details: { name: newName, version, change: Object.keys(change) },
    });
    modelChanged(ctx, uow, actor, newName, 'updated');
    afterCommit(() => ctx.cache.forget(actor.orgId));
    return toModel(row);
  });
}

type EmbeddingChange = NonNullable<ModelChange['embedding']>;
const TEXT_TYPES = new Set(['string', 'text', 'enum']);

/**
 * Enables, changes or disables a model's embeddings. A change of provider, model, size or source
 * fields replaces the vector column (every record is embedded again by the worker); a new secret
 * alone keeps the vectors.
 */
async function applyEmbedding(
  t: Transaction<object>,
  schema: string,
  table: string,
  fields: FieldDef[],
  before: EmbeddingConfig | null,
  change: EmbeddingChange,
  vector: boolean,
): Promise<EmbeddingConfig> {
  const sourceFields = change.sourceFields ?? before?.sourceFields ?? fields.filter((f) => TEXT_TYPES.has(f.type)).map((f) => f.name);
  const problems = sourceFields.flatMap((n, i) => {
    const f = fields.find((x) => x.name === n);
    if (!f) return [{ field: `embedding.sourceFields.${i}`, code: 'unknown_field', message: `the model has no field "${n}"` }];
    if (!TEXT_TYPES.has(f.type))
      return [
        { field: `embedding.sourceFields.${i}`, code: 'not_text', message: `"${n}" is ${f.type}; embeddings are computed from string, text or enum fields` },
      ];
    return [];
  });
  if (change.enabled && !sourceFields.length)
    problems.push({ field: 'embedding.sourceFields', code: 'required', message: 'the model has no text fields to embed' });
  if (change.enabled && change.provider !== 'local' && !change.secretId)
    problems.push({ field: 'embedding.secretId', code: 'required', message: `the ${change.provider} provider needs a vault secret` });
  if (new Set(sourceFields).size !== sourceFields.length)
    problems.push({ field: 'embedding.sourceFields', code: 'duplicate', message: 'a field is listed twice' });
  if (problems.length) throw schemaErrors.MODEL_INVALID(`The embedding settings have ${problems.length} problem(s): ${problems[0]!.message}.`, problems);
  const next: EmbeddingConfig = { ...change, sourceFields };
  const same = (a: EmbeddingConfig | null) =>
    Boolean(a?.enabled) &&
    a!.provider === next.provider &&
    a!.model === next.model &&
    a!.dimensions === next.dimensions &&
    a!.sourceFields.join() === next.sourceFields.join();
  if (next.enabled && same(before)) return next;
  if (before?.enabled) await ddl.dropEmbeddingColumns(t, schema, table);
  if (next.enabled) await ddl.addEmbeddingColumns(t, schema, table, next.sourceFields, next.dimensions, vector);
  return next;
}

export async function deleteModel(ctx: SchemaContext, actor: OrgActor, name: string, ip: string, expected?: Expected): Promise<void> {
  await inTransaction(ctx.db, async (uow) => {
    const { trx, afterCommit } = uow;
    const current = await repo.lockModel(trx, actor.orgId, name);
    if (!current) throw schemaErrors.MODEL_NOT_FOUND();
    if (!isCurrent(expected, current.version)) throw preconditionFailed('model', current.version);
    const users = (await repo.listModels(trx, actor.orgId)).filter(
      (m) => m.id !== current.id && m.fields.some((f) => f.type === 'relation' && f.target === name),
    );
    if (users.length) {
      const list = users.map((m) => `${m.name}.${m.fields.find((f) => f.type === 'relation' && f.target === name)?.name ?? '?'}`);
      throw schemaErrors.MODEL_IN_USE(`Model "${name}" is the target of ${list.join(', ')}; drop those fields first.`, { relations: list });
    }
    const schema = await repo.orgSchemaName(trx, actor.orgId);
    await ddl.dropTable(asObj(trx), schema, name);
    await repo.deleteModel(trx, current.id);
    await recordAudit(trx, { orgId: actor.orgId, actor, action: 'MODEL_DELETE', target: { type: 'model', id: current.id }, ip, details: { name } });
    modelChanged(ctx, uow, actor, name, 'deleted');
    afterCommit(() => ctx.cache.forget(actor.orgId));
  });
}

export async function getModel(ctx: SchemaContext, actor: OrgActor, name: string) {
  const { byName } = await ctx.cache.get(actor.orgId);
  const m = byName.get(name);
  if (!m) throw schemaErrors.MODEL_NOT_FOUND(`No model "${name.slice(0, 100)}" in this organization.`);
  return { ...m, inverse: inverseRelations(byName, name) };
}

export async function listModelDefs(ctx: SchemaContext, actor: OrgActor) {
  const { byName } = await ctx.cache.get(actor.orgId);
  return [...byName.values()].map((m) => ({ ...m, inverse: inverseRelations(byName, m.name) }));
}

export async function modelVersions(ctx: SchemaContext, actor: OrgActor, name: string) {
  const m = await getModel(ctx, actor, name);
  return (await repo.listVersions(ctx.db, m.id)).map((v) => ({
    version: v.version,
    name: v.name,
    change: v.change,
    fields: v.fields,
    actor: v.actor,
    createdAt: v.created_at.toISOString(),
  }));
}

/** Models as nodes and relations as edges, for the ER view (React Flow shapes). */
export async function schemaDiagram(ctx: SchemaContext, actor: OrgActor) {
  const { byName } = await ctx.cache.get(actor.orgId);
  const models = [...byName.values()];
  return {
    nodes: models.map((m) => ({
      id: m.name,
      label: m.label,
      fields: m.fields.map((f) => ({
        name: f.name,
        type: f.type,
        required: Boolean(f.required),
        unique: Boolean(f.unique) || (f.type === 'relation' && f.kind === 'one-to-one'),
      })),
    })),
    edges: models.flatMap((m) =>
      m.fields.flatMap((f) =>
        f.type === 'relation'
          ? [
              {
                id: `${m.name}.${f.name}`,
                source: m.name,
                target: f.target,
                field: f.name,
                kind: f.kind,
                onDelete: f.onDelete,
                inverse: inverseRelations(byName, f.target).find((i) => i.model === m.name && i.field === f.name)?.name ?? null,
              },
            ]
          : [],
      ),
    ),
  };
}
