import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { type CallToolResult, ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { AppError } from '../../platform/errors.js';
import { toAppError } from '../../platform/http/index.js';
import type { Logger } from '../../platform/logger.js';
import { VERSION } from '../../version.js';
import { type OrgActor, type Permission, assertCan } from '../access/index.js';
import { type ActionsContext, actionErrors, listActions, runAction } from '../actions/index.js';
import { type FlowsContext, listFlows, runFlowAsActor, toExecution } from '../flows/index.js';
import { type RecordsContext, createRecord, getVersionedRecord, listRecords, parseListQuery, requireModel, updateRecord } from '../records/index.js';
import { type SchemaContext, getModel, listModelDefs } from '../schema/index.js';
import { type VectorsContext, searchBodySchema, searchRecords } from '../vectors/index.js';

/** What the MCP tools call: the same services, with the same actor, as the REST routes. */
export interface McpContext {
  schema: SchemaContext;
  records: RecordsContext;
  vectors: VectorsContext;
  actions: ActionsContext;
  flows: FlowsContext;
  logger: Logger;
}

/** A tool result is at most this many characters of JSON (a model's context is finite); past it, it is cut and says so. */
export const MAX_RESULT_CHARS = 100_000;

const clipText = (text: string) =>
  text.length <= MAX_RESULT_CHARS
    ? text
    : `${text.slice(0, MAX_RESULT_CHARS)}\n… [cut at ${MAX_RESULT_CHARS} characters: ask for fewer records (limit) or fewer fields]`;

const ok = (value: unknown): CallToolResult => ({ content: [{ type: 'text', text: clipText(JSON.stringify(value, null, 1)) }] });

/**
 * A failure as a tool result: Infinity's code, message and details, as the REST API answers them.
 * An unexpected error is logged here and reaches the client only as INTERNAL (never a stack).
 */
function failed(err: unknown, logger: Logger, tool: string, actor: OrgActor): CallToolResult {
  if (!(err instanceof AppError)) logger.error({ err, tool, org: actor.orgId }, 'mcp tool failed');
  const e = toAppError(err);
  const error = { code: e.code, message: e.message, ...(e.details !== undefined ? { details: e.details } : {}) };
  return { isError: true, content: [{ type: 'text', text: clipText(JSON.stringify({ error })) }] };
}

/**
 * A resource request's failure as a JSON-RPC error: Infinity's code and message for what the caller
 * did (not found: -32002, the MCP resource-not-found code; else invalid params), never the text
 * of an unexpected error (logged, answered INTERNAL).
 */
async function resourceCall<T>(logger: Logger, actor: OrgActor, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (!(err instanceof AppError)) logger.error({ err, org: actor.orgId }, 'mcp resource failed');
    const e = toAppError(err);
    const code = e.status === 404 ? -32002 : e.status >= 500 ? ErrorCode.InternalError : ErrorCode.InvalidParams;
    throw new McpError(code, `${e.code}: ${e.message}`, { code: e.code });
  }
}

const modelName = z.string().min(1).max(63).describe('the model’s name, as list_models gives it');
const recordId = z.string().min(1).max(100).describe('the record’s id');
const values = z.record(z.string().max(63), z.unknown()).describe('field values by field name (describe_model lists the fields and their types)');
const filterText =
  'records filter: {"field":{"op":value}}, ops eq ne gt gte lt lte in nin contains icontains startsWith isNull; combine with {"and":[…]} or {"or":[…]}; related fields as "company.name"';

/** A model definition as the REST API answers it (without the organization id). */
const modelOut = ({ orgId: _o, ...m }: { orgId: string } & Record<string, unknown>) => m;

/**
 * The MCP server for one request and one caller (the endpoint is stateless: a fresh server per
 * request). Every tool checks the caller's role when it runs, with the permission its REST route
 * declares, then calls the same service: tenancy, validation, quotas and events are the API's own.
 */
export function mcpServerFor(ctx: McpContext, actor: OrgActor): McpServer {
  const server = new McpServer(
    { name: 'infinity', version: VERSION },
    {
      instructions:
        'Infinity: models (tables) with records, actions and flows of one organization. Start with list_models and describe_model; query_records, get_record and similarity_search read; create_record and update_record write; list_actions and list_flows give what run_action and run_flow run.',
    },
  );
  /** Registers a tool whose handler runs with the permission checked and errors turned into tool errors. */
  const tool = <S extends z.ZodObject>(
    name: string,
    spec: { description: string; input: S; permission: Permission; readOnly: boolean },
    run: (input: z.output<S>) => Promise<unknown>,
  ) => {
    server.registerTool(
      name,
      { description: spec.description, inputSchema: spec.input, annotations: { readOnlyHint: spec.readOnly, openWorldHint: false } },
      (async (input: z.output<S>) => {
        try {
          assertCan(actor, spec.permission);
          return ok(await run(input));
        } catch (err) {
          return failed(err, ctx.logger, name, actor);
        }
      }) as never,
    );
  };

  tool(
    'list_models',
    {
      description: 'Lists the models (tables) of the organization: name, label, description and field names.',
      input: z.object({}),
      permission: 'models:read',
      readOnly: true,
    },
    async () =>
      (await listModelDefs(ctx.schema, actor)).map((m) => ({
        name: m.name,
        label: m.label,
        description: m.description,
        fields: m.fields.map((f) => f.name),
        embeddings: Boolean(m.embedding?.enabled),
      })),
  );
  tool(
    'describe_model',
    {
      description: 'The full definition of one model: every field with its type and constraints, relations, inverse relations and embedding settings.',
      input: z.object({ model: modelName }),
      permission: 'models:read',
      readOnly: true,
    },
    async ({ model }) => modelOut(await getModel(ctx.schema, actor, model)),
  );
  tool(
    'query_records',
    {
      description: `Lists records of a model with a filter, sort and limit; page on with the nextCursor it returns. ${filterText}.`,
      input: z.object({
        model: modelName,
        filter: z.record(z.string(), z.unknown()).optional().describe(filterText),
        sort: z.string().max(500).optional().describe('comma-separated fields, "-" for descending: "-createdAt,name"'),
        limit: z.number().int().min(1).max(100).default(20).describe('records per page (at most 100)'),
        cursor: z.string().max(2000).optional().describe('nextCursor of the previous page'),
        fields: z.array(z.string().max(63)).max(200).optional().describe('only these fields (id, createdAt and updatedAt are always there)'),
      }),
      permission: 'records:read',
      readOnly: true,
    },
    async ({ model, filter, sort, limit, cursor, fields }) => {
      const { model: def } = await requireModel(ctx.records, actor, model);
      const q = parseListQuery(def, {
        limit: String(limit),
        ...(filter ? { filter: JSON.stringify(filter) } : {}),
        ...(sort ? { sort } : {}),
        ...(cursor ? { cursor } : {}),
        ...(fields ? { fields: fields.join(',') } : {}),
      });
      const r = await listRecords(ctx.records, actor, model, q);
      return { data: r.data, nextCursor: r.nextCursor };
    },
  );
  tool(
    'get_record',
    { description: 'One record of a model by its id.', input: z.object({ model: modelName, id: recordId }), permission: 'records:read', readOnly: true },
    async ({ model, id }) => (await getVersionedRecord(ctx.records, actor, model, id)).record,
  );
  tool(
    'create_record',
    {
      description: 'Creates a record in a model; values are checked against the model’s fields (unknown fields are an error).',
      input: z.object({ model: modelName, values }),
      permission: 'records:write',
      readOnly: false,
    },
    async ({ model, values: v }) => createRecord(ctx.records, actor, model, v),
  );
  tool(
    'update_record',
    {
      description: 'Changes some fields of a record (the others keep their values).',
      input: z.object({ model: modelName, id: recordId, values }),
      permission: 'records:write',
      readOnly: false,
    },
    async ({ model, id, values: v }) => updateRecord(ctx.records, actor, model, id, v),
  );
  tool(
    'similarity_search',
    {
      description:
        'The records of a model most similar to a text: by embeddings (mode vector, the model needs embeddings enabled), full-text rank (keyword) or both (hybrid); with an optional records filter.',
      input: z.object({
        model: modelName,
        query: z.string().trim().min(1).max(8000).describe('what to look for'),
        k: z.number().int().min(1).max(50).default(10).describe('how many records'),
        mode: z.enum(['vector', 'keyword', 'hybrid']).default('vector'),
        filter: z.record(z.string(), z.unknown()).optional().describe(filterText),
      }),
      permission: 'records:read',
      readOnly: true,
    },
    async ({ model, ...body }) => (await searchRecords(ctx.vectors, actor, model, searchBodySchema.parse(body))).data,
  );
  const page = {
    limit: z.number().int().min(1).max(100).default(50).describe('how many (at most 100)'),
    offset: z.number().int().min(0).max(100_000).default(0).describe('how many to skip'),
  };
  tool(
    'list_actions',
    {
      description: 'Lists the actions run_action can run: id, name, description and the parameters a run gives (fixed ones left out).',
      input: z.object(page),
      permission: 'actions:read',
      readOnly: true,
    },
    async ({ limit, offset }) =>
      (await listActions(ctx.actions, actor, limit, offset)).map((a) => ({
        id: a.id,
        name: a.name,
        description: a.description,
        params: a.params.filter((p) => p.value === undefined),
      })),
  );
  tool(
    'list_flows',
    {
      description:
        'Lists the flows run_flow can run, newest first: id, name, description, whether active, and the input schema of its core.input node if it has one.',
      input: z.object(page),
      permission: 'flows:read',
      readOnly: true,
    },
    async ({ limit, offset }) =>
      (await listFlows(ctx.flows, actor, { limit, offset })).items.map((f) => ({
        id: f.id,
        name: f.name,
        description: f.description,
        active: f.active,
        input: (f.nodes.find((n) => n.type === 'core.input')?.params as { schema?: unknown } | undefined)?.schema ?? null,
      })),
  );
  tool(
    'run_action',
    {
      description: 'Runs an action (a pre-configured set of record operations, in one transaction) with its parameters; answers with the run’s output.',
      input: z.object({
        actionId: z.uuid().describe('the action’s id (list_actions gives them)'),
        params: z.record(z.string().max(63), z.unknown()).default({}).describe('the action’s parameters by name'),
      }),
      permission: 'actions:write',
      readOnly: false,
    },
    async ({ actionId, params }) => {
      const run = await runAction(ctx.actions, actor, actionId, params);
      if (run.status === 'failed') {
        const e = run.error as { step?: string; message?: string } | null;
        throw actionErrors.ACTION_RUN_FAILED(`Step "${e?.step ?? '?'}" failed: ${e?.message ?? 'error'} Nothing was changed.`, { runId: run.id });
      }
      return { runId: run.id, status: run.status, output: run.output };
    },
  );
  tool(
    'run_flow',
    {
      description:
        'Runs a flow with an input and waits for it to finish (a queued run is waited for at most 30 seconds): answers with the execution’s id, status, output and error.',
      input: z.object({
        flowId: z.uuid().describe('the flow’s id (list_flows gives them)'),
        input: z.json().optional().describe('the flow’s input (its trigger receives it)'),
      }),
      permission: 'flows:run',
      readOnly: false,
    },
    async ({ flowId, input }) => {
      const row = await runFlowAsActor(ctx.flows, actor, flowId, input ?? null, true);
      if (!row) return { status: 'unknown', message: 'The execution was not found after it ran.' };
      const e = toExecution(row);
      return { executionId: e.id, status: e.status, output: e.output, error: e.error, durationMs: e.durationMs };
    },
  );

  server.registerResource(
    'model',
    new ResourceTemplate('infinity://models/{name}', {
      list: async () =>
        resourceCall(ctx.logger, actor, async () => {
          assertCan(actor, 'models:read');
          return {
            resources: (await listModelDefs(ctx.schema, actor)).map((m) => ({
              uri: `infinity://models/${m.name}`,
              name: m.name,
              title: m.label,
              description: m.description || `The definition of the ${m.name} model`,
              mimeType: 'application/json',
            })),
          };
        }),
    }),
    { title: 'Model definition', description: 'A model’s definition: fields, relations, embedding settings', mimeType: 'application/json' },
    async (uri, { name }) =>
      resourceCall(ctx.logger, actor, async () => {
        assertCan(actor, 'models:read');
        const m = await getModel(ctx.schema, actor, String(name));
        return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(modelOut(m), null, 1) }] };
      }),
  );
  return server;
}
