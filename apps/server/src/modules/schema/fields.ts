import { nameAndLabel, toIdentifier } from '@infinity/contracts';
import { z } from 'zod';
import { linearRegexError } from '../../platform/regex/index.js';

/**
 * Model and field definitions (SPEC §13). A definition is the single source of truth for a
 * model's table, its validation and its API: identifiers in SQL only ever come from here.
 */
export const IDENT_RE = /^[a-z][a-z0-9_]{0,62}$/;

/**
 * Names a field may not take: only those that collide with a column of the table (system columns
 * and their API spellings, Postgres system columns). Query parameters (q, sort, …) and the search
 * answer's similarity (`_score`) never claim a field name.
 */
export const RESERVED_FIELDS = new Set([
  'id',
  'created_at',
  'updated_at',
  'created_by',
  'updated_by',
  'createdat',
  'updatedat',
  'createdby',
  'updatedby',
  'ctid',
  'xmin',
  'xmax',
  'cmin',
  'cmax',
  'tableoid',
  'oid',
]);
export const RESERVED_MODELS = new Set(['models', 'schema', 'data', 'bulk', 'search', 'export', 'import', 'pg_catalog', 'information_schema', 'public']);

const ident = (what: string) => z.string().regex(IDENT_RE, `${what} must be a lowercase identifier: a letter, then letters, digits or _ (at most 63)`);

export const fieldName = ident('a field name').refine((n) => !RESERVED_FIELDS.has(n) && !n.startsWith('pg_'), 'this field name is reserved');
export const modelName = ident('a model name').refine((n) => !RESERVED_MODELS.has(n) && !n.startsWith('pg_'), 'this model name is reserved');

/** A name as a person may type it ("First Name"): made an identifier by `toIdentifier` (contracts/names.ts). */
const typedName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(200)
  .describe('an identifier, or text that becomes one (e.g. "First Name" → first_name, the text kept as label)');
/** A typed name → its identifier, checked by `schema` (its message says what the name became). */
function identifierOf(typed: string, schema: z.ZodType<string>, ctx: z.RefinementCtx, path: (string | number)[]): string | undefined {
  const name = toIdentifier(typed);
  const r = schema.safeParse(name);
  if (r.success) return name;
  const why = r.error.issues[0]?.message ?? 'is not a valid name';
  ctx.addIssue({ code: 'custom', path, message: name === typed ? why : `"${typed.slice(0, 60)}" becomes "${name}": ${why}`, input: typed });
  return undefined;
}

const label = z.string().trim().min(1).max(200).optional();
const description = z.string().max(2000).optional();
const common = {
  label,
  description,
  required: z.boolean().optional(),
  unique: z.boolean().optional(),
  indexed: z.boolean().optional(),
};
const bound = z.number().finite();
// Patterns run on RE2 (linear time): no backreferences or lookaround. Still valid for a
// JavaScript RegExp too, so a client can check values the same way before sending them.
const validRegex = z
  .string()
  .max(500)
  .refine((p) => {
    try {
      new RegExp(p, 'u');
      return true;
    } catch {
      return false;
    }
  }, 'must be a valid regular expression')
  .superRefine((p, ctx) => {
    const why = linearRegexError(p);
    if (why) ctx.addIssue({ code: 'custom', message: `must be a regular expression without backreferences or lookaround (RE2 syntax): ${why}` });
  });
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD');

export const SCALAR_ITEMS = ['string', 'integer', 'number', 'boolean'] as const;

/** The field definitions, with `name` (and a relation's `target`) as `name`/`target` schemas give them. */
const fieldUnion = <N extends z.ZodType<string>, T extends z.ZodType<string>>(name: N, target: T) =>
  z.discriminatedUnion('type', [
    z.strictObject({
      ...common,
      name,
      type: z.literal('string'),
      min: bound.int().min(0).optional(),
      max: bound.int().min(1).max(1_000_000).optional(),
      pattern: validRegex.optional(),
      default: z.string().max(10_000).optional(),
    }),
    z.strictObject({
      ...common,
      name,
      type: z.literal('text'),
      min: bound.int().min(0).optional(),
      max: bound.int().min(1).optional(),
      default: z.string().max(100_000).optional(),
    }),
    z.strictObject({
      ...common,
      name,
      type: z.literal('integer'),
      min: bound.int().optional(),
      max: bound.int().optional(),
      default: z.number().int().optional(),
    }),
    z.strictObject({ ...common, name, type: z.literal('number'), min: bound.optional(), max: bound.optional(), default: z.number().finite().optional() }),
    z.strictObject({ ...common, name, type: z.literal('boolean'), default: z.boolean().optional() }),
    z.strictObject({ ...common, name, type: z.literal('date'), default: isoDate.optional() }),
    z.strictObject({ ...common, name, type: z.literal('datetime'), default: z.iso.datetime({ offset: true }).optional() }),
    z.strictObject({ ...common, name, type: z.literal('json'), default: z.json().optional() }),
    z.strictObject({
      ...common,
      name,
      type: z.literal('array'),
      items: z.enum(SCALAR_ITEMS),
      min: bound.int().min(0).optional(),
      max: bound.int().min(0).max(100_000).optional(),
      default: z.array(z.union([z.string(), z.number(), z.boolean()])).optional(),
    }),
    z.strictObject({ ...common, name, type: z.literal('enum'), values: z.array(z.string().min(1).max(200)).min(1).max(500), default: z.string().optional() }),
    z.strictObject({
      ...common,
      name,
      type: z.literal('relation'),
      target,
      kind: z.enum(['many-to-one', 'one-to-one']).default('many-to-one'),
      onDelete: z.enum(['cascade', 'set null', 'restrict']).default('restrict'),
    }),
  ]);
/** A stored field definition (names already identifiers): what the API answers. */
export const fieldSchema = fieldUnion(fieldName, modelName);
/**
 * A field definition as a client sends it: a typed name becomes an identifier, the typed text its
 * label unless a label is given ("First Name" → first_name, label "First Name"); a relation's
 * target is turned the same way, so "Customers" names the model customers.
 */
export const fieldInputSchema = fieldUnion(typedName, typedName).transform((f, ctx) => {
  const name = identifierOf(f.name, fieldName, ctx, ['name']);
  const target = f.type === 'relation' ? identifierOf(f.target, modelName, ctx, ['target']) : undefined;
  if (name === undefined || (f.type === 'relation' && target === undefined)) return z.NEVER;
  const named = { ...f, ...nameAndLabel(f.name, f.label), name };
  return (f.type === 'relation' ? { ...named, target } : named) as z.output<typeof fieldSchema>;
});
export type FieldDef = z.infer<typeof fieldSchema>;
export type RelationField = Extract<FieldDef, { type: 'relation' }>;

/** Checks across the fields of one definition that a per-field schema cannot see. */
export function fieldProblems(fields: FieldDef[]): { field: string; code: string; message: string }[] {
  const problems: { field: string; code: string; message: string }[] = [];
  const seen = new Set<string>();
  fields.forEach((f, i) => {
    const at = `fields.${i}`;
    if (seen.has(f.name)) problems.push({ field: `${at}.name`, code: 'duplicate', message: `field "${f.name}" is defined twice` });
    seen.add(f.name);
    if ('min' in f && 'max' in f && f.min !== undefined && f.max !== undefined && f.min > f.max)
      problems.push({ field: at, code: 'min_above_max', message: `min (${f.min}) is above max (${f.max})` });
    if (f.type === 'enum') {
      if (new Set(f.values).size !== f.values.length) problems.push({ field: `${at}.values`, code: 'duplicate', message: 'enum values must be distinct' });
      if (f.default !== undefined && !f.values.includes(f.default))
        problems.push({ field: `${at}.default`, code: 'not_in_enum', message: 'the default must be one of the values' });
    }
    if (f.type === 'relation' && f.unique)
      problems.push({ field: at, code: 'unique_relation', message: 'use kind "one-to-one" instead of unique on a relation' });
    if (f.type === 'relation' && f.onDelete === 'set null' && f.required)
      problems.push({ field: at, code: 'set_null_required', message: 'onDelete "set null" cannot apply to a required relation' });
  });
  return problems;
}

export const modelCreateSchema = z
  .strictObject({
    name: typedName,
    label,
    description,
    fields: z.array(fieldInputSchema).max(500).default([]),
  })
  .transform((m, ctx) => {
    const name = identifierOf(m.name, modelName, ctx, ['name']);
    if (name === undefined) return z.NEVER;
    return { ...m, ...nameAndLabel(m.name, m.label), name };
  });
export type ModelCreate = z.infer<typeof modelCreateSchema>;

/** Defaults per embedding provider: OpenAI's ada-002 (1536) unless a model or size is given. */
export const embeddingSettingsSchema = z
  .strictObject({
    enabled: z.boolean(),
    sourceFields: z.array(fieldName).min(1).max(20).optional(),
    provider: z.enum(['openai', 'openai-compatible', 'local']).default('openai'),
    model: z.string().trim().min(1).max(200).optional(),
    dimensions: z.number().int().min(2).max(4000).optional(),
    secretId: z.uuid().nullable().optional(),
  })
  .transform((e) => ({
    ...e,
    model: e.model ?? (e.provider === 'local' ? 'local-lexical' : 'text-embedding-ada-002'),
    dimensions: e.dimensions ?? (e.model === 'text-embedding-3-large' ? 3072 : 1536),
    secretId: e.secretId ?? null,
  }));
export type EmbeddingConfig = Omit<z.output<typeof embeddingSettingsSchema>, 'sourceFields'> & { sourceFields: string[] };

export const modelChangeSchema = z
  .strictObject({
    label,
    description,
    rename: modelName.optional(),
    addFields: z.array(fieldInputSchema).max(500).optional(),
    updateFields: z.array(fieldInputSchema).max(500).optional(),
    renameFields: z
      .array(z.strictObject({ from: fieldName, to: fieldName }))
      .max(500)
      .optional(),
    dropFields: z.array(fieldName).max(500).optional(),
    embedding: embeddingSettingsSchema.optional(),
  })
  .refine((c) => Object.values(c).some((v) => v !== undefined), 'give at least one change');
export type ModelChange = z.infer<typeof modelChangeSchema>;

/** A stored model: its definition plus what the server keeps about it. */
export interface ModelDef {
  id: string;
  orgId: string;
  name: string;
  label: string;
  description: string;
  fields: FieldDef[];
  /** Vector embeddings of chosen text fields, for similarity search (null: never enabled). */
  embedding: EmbeddingConfig | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}
