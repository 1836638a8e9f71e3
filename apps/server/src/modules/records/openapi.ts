import type { FieldDef, ModelDef } from '../schema/index.js';

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
        return { type: ['object', 'array'] };
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
  return { ...described, type: Array.isArray(t) ? [...(t as string[]), 'null'] : [t, 'null'] };
}

const pascal = (s: string) => s.replace(/(^|_)([a-z0-9])/g, (_m, _u, c: string) => c.toUpperCase());

export function modelPaths(models: ModelDef[]): { paths: Record<string, unknown>; schemas: Record<string, unknown> } {
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  const err = { description: 'Error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  schemas.Error = {
    type: 'object',
    properties: {
      error: {
        type: 'object',
        properties: { code: { type: 'string' }, message: { type: 'string' }, details: {}, requestId: { type: 'string' } },
        required: ['code', 'message'],
      },
    },
  };
  for (const m of models) {
    const N = pascal(m.name);
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
    const one = { content: { 'application/json': { schema: { type: 'object', properties: { data: { $ref: `#/components/schemas/${N}` } } } } } };
    const body = { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${N}Input` } } } };
    const tag = [`data: ${m.name}`];
    const idParam = [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }];
    paths[`/api/v1/data/${m.name}`] = {
      get: {
        tags: tag,
        operationId: `list${N}`,
        summary: `List ${m.label}`,
        parameters: [
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000 } },
          { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0 } },
          { name: 'cursor', in: 'query', schema: { type: 'string' } },
          { name: 'sort', in: 'query', schema: { type: 'string' }, description: 'e.g. -createdAt,name' },
          { name: 'filter', in: 'query', schema: { type: 'string' }, description: 'JSON filter, e.g. {"name":{"eq":"x"}}; or filter[field][op]=value' },
          { name: 'q', in: 'query', schema: { type: 'string' } },
          { name: 'expand', in: 'query', schema: { type: 'string' } },
          { name: 'count', in: 'query', schema: { type: 'string', enum: ['exact', 'none'] } },
        ],
        responses: {
          200: {
            description: 'Records',
            content: {
              'application/json': {
                schema: { type: 'object', properties: { data: { type: 'array', items: { $ref: `#/components/schemas/${N}` } }, meta: { type: 'object' } } },
              },
            },
          },
          400: err,
        },
      },
      post: {
        tags: tag,
        operationId: `create${N}`,
        summary: `Create a ${m.name} record`,
        requestBody: body,
        responses: { 201: { description: 'Created', ...one }, 409: err, 422: err },
      },
    };
    paths[`/api/v1/data/${m.name}/{id}`] = {
      get: { tags: tag, operationId: `get${N}`, parameters: idParam, responses: { 200: { description: 'The record', ...one }, 404: err } },
      put: {
        tags: tag,
        operationId: `replace${N}`,
        parameters: idParam,
        requestBody: body,
        responses: { 200: { description: 'Replaced', ...one }, 404: err, 422: err },
      },
      patch: {
        tags: tag,
        operationId: `update${N}`,
        parameters: idParam,
        requestBody: { required: true, content: { 'application/json': { schema: { ...(schemas[`${N}Input`] as object), required: [] } } } },
        responses: { 200: { description: 'Updated', ...one }, 404: err, 422: err },
      },
      delete: { tags: tag, operationId: `delete${N}`, parameters: idParam, responses: { 204: { description: 'Deleted' }, 404: err, 409: err } },
    };
  }
  return { paths, schemas };
}
