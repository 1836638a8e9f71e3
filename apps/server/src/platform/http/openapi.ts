import { createHash } from 'node:crypto';
import type { SwaggerTransform, SwaggerTransformObject } from '@fastify/swagger';
import type { FastifySchema } from 'fastify';
import { z } from 'zod';

/**
 * The OpenAPI document as code generators and automation platforms read it (Redocly's
 * `recommended` rules, openapi-typescript). Route schemas are Zod; this turns them into JSON
 * Schema the way fastify-type-provider-zod's transform does, with two differences that make the
 * document resolve:
 *  - a recursive schema (`z.json()`) becomes one named component instead of a `$ref` to a
 *    definition the library drops;
 *  - a wildcard route (`/hooks/:flowId/*`) is documented with a named path parameter (`{path}`).
 * Every operation also gets the error response all routes can give.
 */
type JsonSchema = Record<string, unknown>;

const COMPONENTS = '#/components/schemas/';
const ERROR_SCHEMA_NAME = 'Error';
const errorSchemaRef = { $ref: `${COMPONENTS}${ERROR_SCHEMA_NAME}` };

/** The one error format (docs/errors.md), as a component every operation's 4XX answer points to. */
const errorSchema: JsonSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string', description: 'Stable SCREAMING_SNAKE code (docs/errors.md)' },
        message: { type: 'string', description: 'A human sentence' },
        details: { description: 'Per-code details (field problems, limits, …) or null' },
        requestId: { type: 'string', description: 'Set on 500s: the id in the server log' },
      },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
};

/** The answer every operation may give: a refusal in the error format. */
export const errorResponse = {
  description: 'Refused: `error.code` says why (bad input, not authenticated, not allowed, not found, conflict, limit)',
  content: { 'application/json': { schema: errorSchemaRef } },
};

type Io = 'input' | 'output';

function toJsonSchema(schema: z.core.$ZodType, io: Io): JsonSchema {
  return z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
    cycles: 'ref',
    reused: 'inline',
    // As fastify-type-provider-zod: an empty branch ({}) of a union says nothing; dates leave as strings.
    override: (ctx) => {
      const def = ctx.zodSchema._zod.def;
      if (def.type === 'union' && Array.isArray(ctx.jsonSchema.anyOf)) ctx.jsonSchema.anyOf = ctx.jsonSchema.anyOf.filter((s) => Object.keys(s).length > 0);
      if (io === 'output' && def.type === 'date') Object.assign(ctx.jsonSchema, { type: 'string', format: 'date-time' });
      if (io === 'output' && def.type === 'undefined') ctx.jsonSchema.type = 'null';
    },
  });
}

/** Replaces every `$ref` string the map knows, anywhere in `value`. */
function rewriteRefs(value: unknown, refs: Map<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => rewriteRefs(v, refs));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' ? (refs.get(v) ?? v) : rewriteRefs(v, refs)]));
}

/** A recursive definition as text that does not depend on the local name zod gave it. */
const canonical = (name: string, def: unknown) => JSON.stringify(rewriteRefs(def, new Map([[`#/$defs/${name}`, '#']])));

/**
 * What `z.json()` is documented as, however many routes use it. NB: not its recursive form
 * (string | number | … | JsonValue[] | { [k]: JsonValue }): a JSON document holds nothing but
 * JSON values, so "any value" says the same, and openapi-typescript turns the recursive form
 * into a type that refers to itself (TS2502), which no client compiles.
 */
const JSON_VALUE_SCHEMA = { description: 'Any JSON value: string, number, boolean, null, array or object' };
const JSON_VALUE = (() => {
  const out = toJsonSchema(z.object({ v: z.json() }), 'input');
  const [name, def] = Object.entries(out.$defs as Record<string, unknown>)[0]!;
  return canonical(name, def);
})();

/**
 * Named components for the recursive definitions of all routes. A definition with the same
 * shape gets the same name, so the name is stable however many routes use it.
 */
class RecursiveComponents {
  readonly schemas: Record<string, unknown> = {};

  /** `schema` as JSON Schema, its `$defs` moved to components and referenced there. */
  convert(schema: z.core.$ZodType, io: Io): JsonSchema {
    const root = toJsonSchema(schema, io);
    const $defs = root.$defs;
    delete root.$schema;
    delete root.$defs;
    if (!$defs) return root;
    const refs = new Map<string, string>();
    for (const [local, def] of Object.entries($defs as Record<string, unknown>)) {
      const text = canonical(local, def);
      const name = text === JSON_VALUE ? 'JsonValue' : `Recursive${createHash('sha256').update(text).digest('hex').slice(0, 10)}`;
      refs.set(`#/$defs/${local}`, `${COMPONENTS}${name}`);
    }
    for (const [local, def] of Object.entries($defs as Record<string, unknown>)) {
      const name = refs.get(`#/$defs/${local}`)!.slice(COMPONENTS.length);
      this.schemas[name] = name === 'JsonValue' ? JSON_VALUE_SCHEMA : rewriteRefs(def, refs);
    }
    return rewriteRefs(root, refs) as JsonSchema;
  }
}

const isZod = (s: unknown): s is z.core.$ZodType => s instanceof z.core.$ZodType;

/** Fastify names a trailing wildcard `*`; the document names it `path` (OpenAPI parameter names are identifiers). */
function namedWildcard(url: string, params: JsonSchema | undefined): { url: string; params: JsonSchema | undefined } {
  if (!url.endsWith('/*')) return { url, params };
  const properties = (params?.properties ?? {}) as Record<string, JsonSchema>;
  const { '*': rest, ...others } = properties;
  return {
    url: `${url.slice(0, -1)}:path`,
    params: {
      ...params,
      type: 'object',
      properties: { ...others, path: { type: 'string', ...rest, description: 'The rest of the path after the flow id (may contain slashes)' } },
      required: [...((params?.required as string[] | undefined) ?? []).filter((n) => n !== '*'), 'path'],
    },
  };
}

type Operation = Record<string, unknown> & { responses?: Record<string, unknown> };
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Every operation can be refused (input, authentication, authorization, missing ids): say so where a route did not. */
function withErrorResponses(paths: Record<string, Record<string, unknown>>) {
  for (const item of Object.values(paths)) {
    for (const method of METHODS) {
      const op = item[method] as Operation | undefined;
      if (!op) continue;
      const responses = op.responses ?? {};
      if (!Object.keys(responses).some((code) => code.startsWith('4'))) op.responses = { ...responses, '4XX': errorResponse };
    }
  }
}

/** `transform` and `transformObject` for @fastify/swagger. */
export function openApiTransforms() {
  const recursive = new RecursiveComponents();
  const part = (s: unknown, io: Io) => (isZod(s) ? recursive.convert(s, io) : s);
  const response = (r: unknown) => {
    if (isZod(r)) return part(r, 'output');
    if (r && typeof r === 'object' && 'content' in r && r.content && typeof r.content === 'object') {
      const content = Object.fromEntries(
        Object.entries(r.content).map(([type, media]) => [type, { ...media, schema: part((media as { schema?: unknown }).schema, 'output') }]),
      );
      return { ...r, content };
    }
    return r;
  };

  const transform: SwaggerTransform = ({ schema, url }) => {
    if (!schema) return { schema, url };
    const { response: responses, headers, querystring, body, params, hide, ...rest } = schema as FastifySchema & { hide?: boolean };
    if (hide) return { schema: { hide: true }, url };
    const named = namedWildcard(url, part(params, 'input') as JsonSchema | undefined);
    const out: Record<string, unknown> = { ...rest };
    if (headers) out.headers = part(headers, 'input');
    if (querystring) out.querystring = part(querystring, 'input');
    if (body) out.body = part(body, 'input');
    if (named.params) out.params = named.params;
    if (responses) out.response = Object.fromEntries(Object.entries(responses as Record<string, unknown>).map(([code, r]) => [code, response(r)]));
    return { schema: out, url: named.url };
  };

  const transformObject: SwaggerTransformObject = (document) => {
    if (!('openapiObject' in document)) return document.swaggerObject;
    const openapiObject = document.openapiObject;
    const doc = openapiObject as { paths?: Record<string, Record<string, unknown>>; components?: { schemas?: Record<string, unknown> } };
    withErrorResponses(doc.paths ?? {});
    return {
      ...openapiObject,
      components: { ...doc.components, schemas: { ...doc.components?.schemas, ...recursive.schemas, [ERROR_SCHEMA_NAME]: errorSchema } },
    };
  };
  return { transform, transformObject };
}
