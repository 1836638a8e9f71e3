import { listMetaSchema } from '@infinity/contracts';
import { z } from 'zod';
import { errorResponse } from '../../platform/http/index.js';
import type { FieldDef, ModelDef } from '../schema/index.js';
import { LIST_QUERY_PARAMETERS } from './list-query.js';

/**
 * The organization's part of the OpenAPI document: typed paths and schemas for each model, so
 * automation platforms that import the document get real fields, not a generic record.
 */
type JsonSchema = Record<string, unknown>;

function fieldSchema(f: FieldDef): JsonSchema {
  const base: JsonSchema = (() => {
    switch (f.type) {
      case 'string':
      case 'text':
        return {
          type: 'string',
          ...(f.min !== undefined ? { minLength: f.min } : {}),
          ...(f.max !== undefined ? { maxLength: f.max } : {}),
          ...(f.type === 'string' && f.pattern ? { pattern: f.pattern } : {}),
        };
      case 'integer':
      case 'number':
        return { type: f.type, ...(f.min !== undefined ? { minimum: f.min } : {}), ...(f.max !== undefined ? { maximum: f.max } : {}) };
      case 'boolean':
        return { type: 'boolean' };
      case 'date':
        return { type: 'string', format: 'date' };
      case 'datetime':
        return { type: 'string', format: 'date-time' };
      case 'json':
        // additionalProperties: an object of any keys (generators read a bare object type as `{}` with none).
        return { type: ['object', 'array'], additionalProperties: true };
      case 'array':
        return {
          type: 'array',
          items: { type: f.items },
          ...(f.min !== undefined ? { minItems: f.min } : {}),
          ...(f.max !== undefined ? { maxItems: f.max } : {}),
        };
      case 'enum':
        return { type: 'string', enum: f.values };
      case 'relation':
        return { type: 'string', format: 'uuid', description: `id of a ${f.target} record` };
      default: {
        const never: never = f;
        return never;
      }
    }
  })();
  const described: JsonSchema = {
    ...base,
    ...(f.description ? { description: f.description } : f.label ? { title: f.label } : {}),
    ...('default' in f && f.default !== undefined ? { default: f.default } : {}),
  };
  if (f.required) return described;
  const t = described.type;
  const nullable = { ...described, type: Array.isArray(t) ? [...(t as string[]), 'null'] : [t, 'null'] };
  // An enum lists every valid value: null too when the field may be empty.
  return Array.isArray(described.enum) ? { ...nullable, enum: [...(described.enum as unknown[]), null] } : nullable;
}

const pascal = (s: string) => s.replace(/(^|_)([a-z0-9])/g, (_m, _u, c: string) => c.toUpperCase());

const OPERATIONS = ['list', 'create', 'get', 'replace', 'update', 'delete'] as const;

/** Operation ids and component names the document already holds: a model's must not repeat them. */
interface TakenNames {
  operationIds: Set<string>;
  schemas: Set<string>;
}

/**
 * The name a model's operations and schemas are built from: its name in PascalCase, unless that
 * repeats a name already taken (a model called `flows` would give `listFlows`, the flows list);
 * then `Model` is appended (`listFlowsModel`), and a number if even that is taken. Models are
 * named in the order they were created, so a model keeps its names when others are added.
 */
function uniqueName(model: string, taken: TakenNames): string {
  const base = pascal(model);
  for (let i = 0; ; i++) {
    const name = i === 0 ? base : `${base}Model${i === 1 ? '' : i}`;
    const ids = OPERATIONS.map((op) => `${op}${name}`);
    if (ids.some((id) => taken.operationIds.has(id)) || taken.schemas.has(name) || taken.schemas.has(`${name}Input`)) continue;
    for (const id of ids) taken.operationIds.add(id);
    taken.schemas.add(name).add(`${name}Input`);
    return name;
  }
}

const listParameters = Object.entries(LIST_QUERY_PARAMETERS as Record<string, { description?: string }>).map(([name, { description, ...schema }]) => ({
  name,
  in: 'query',
  schema,
  ...(description ? { description } : {}),
}));

/** The list envelope's meta, as the generic list route documents it. */
const listMeta: Record<string, unknown> = z.toJSONSchema(listMetaSchema, { io: 'output' });
delete listMeta.$schema;

export function modelPaths(models: ModelDef[], taken: TakenNames): { paths: Record<string, unknown>; schemas: Record<string, unknown> } {
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  const err = errorResponse;
  const byAge = [...models].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  for (const m of byAge) {
    const N = uniqueName(m.name, taken);
    const props = Object.fromEntries(m.fields.map((f) => [f.name, fieldSchema(f)]));
    schemas[`${N}Input`] = {
      type: 'object',
      additionalProperties: false,
      properties: props,
      required: m.fields.filter((f) => f.required && !('default' in f && f.default !== undefined)).map((f) => f.name),
    };
    schemas[N] = {
      type: 'object',
      properties: {
        id: { type: 'string', format: 'uuid' },
        createdAt: { type: 'string', format: 'date-time' },
        updatedAt: { type: 'string', format: 'date-time' },
        createdBy: { type: ['string', 'null'] },
        updatedBy: { type: ['string', 'null'] },
        ...props,
      },
      required: ['id', 'createdAt', 'updatedAt'],
    };
    const one = {
      content: { 'application/json': { schema: { type: 'object', properties: { data: { $ref: `#/components/schemas/${N}` } }, required: ['data'] } } },
    };
    const body = { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${N}Input` } } } };
    const tag = [`data: ${m.name}`];
    const idParam = [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }];
    paths[`/api/v1/data/${m.name}`] = {
      get: {
        tags: tag,
        operationId: `list${N}`,
        summary: `List records of ${m.name}: filter, sort, page`,
        parameters: listParameters,
        responses: {
          200: {
            description: 'Records',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: { data: { type: 'array', items: { $ref: `#/components/schemas/${N}` } }, meta: listMeta },
                  required: ['data', 'meta'],
                },
              },
            },
          },
          400: err,
        },
      },
      post: {
        tags: tag,
        operationId: `create${N}`,
        summary: `Create a record in ${m.name}`,
        requestBody: body,
        responses: { 201: { description: 'Created', ...one }, 409: err, 422: err },
      },
    };
    paths[`/api/v1/data/${m.name}/{id}`] = {
      get: {
        tags: tag,
        operationId: `get${N}`,
        summary: `One record of ${m.name}`,
        parameters: idParam,
        responses: { 200: { description: 'The record', ...one }, 404: err },
      },
      put: {
        tags: tag,
        operationId: `replace${N}`,
        summary: `Replace a record of ${m.name} (absent fields return to their default or null)`,
        parameters: idParam,
        requestBody: body,
        responses: { 200: { description: 'Replaced', ...one }, 404: err, 422: err },
      },
      patch: {
        tags: tag,
        operationId: `update${N}`,
        summary: `Update some fields of a record of ${m.name}`,
        parameters: idParam,
        requestBody: { required: true, content: { 'application/json': { schema: { ...(schemas[`${N}Input`] as object), required: [] } } } },
        responses: { 200: { description: 'Updated', ...one }, 404: err, 422: err },
      },
      delete: {
        tags: tag,
        operationId: `delete${N}`,
        summary: `Delete a record of ${m.name}`,
        parameters: idParam,
        responses: { 204: { description: 'Deleted' }, 404: err, 409: err },
      },
    };
  }
  return { paths, schemas };
}
