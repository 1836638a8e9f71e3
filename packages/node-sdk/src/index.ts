/**
 * The Infinity node SDK. A node is one typed definition object: its zod parameter schema gives the
 * parameter types in `execute`, the JSON Schema the editor renders as a form, and the schema an
 * agent sees when the node is a tool. Outputs are named ports: a node says which ports it emits by
 * the keys of the object it returns, and the engine follows only those edges.
 *
 *   export const upper = defineNode({
 *     type: 'acme.upper', version: 1, title: 'Upper-case', description: '…', category: 'transform',
 *     params: z.object({ field: z.string() }),
 *     outputs: ['main'],
 *     async execute({ params, input }) { … return { main: result }; },
 *   });
 */
import type { JsonSchema, NodeTypeInfo } from '@infinity/contracts';
import { z } from 'zod';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** A record as the records API returns it: id, createdAt, updatedAt and the fields by name. */
export type RecordData = Record<string, unknown>;

/** The records filter language as JSON (`{ "age": { "gte": 30 }, "or": [ … ] }`). */
export type RecordFilter = Record<string, unknown>;

/**
 * Options of a write. `idempotencyKey` (pass `ctx.idempotencyKey`): the write is applied once per
 * key and execution, recorded in the same transaction; a step run again after a crash or a retry
 * gets the first write's result back instead of writing twice. One write per key: a node making
 * several writes suffixes the key (`${ctx.idempotencyKey}:2`).
 */
export interface WriteOptions {
  idempotencyKey?: string;
}

/** Reads and writes of records. A missing record rejects with an error whose `code` is `RECORD_NOT_FOUND`. */
export interface RecordsCapability {
  query(model: string, query?: { filter?: RecordFilter; sort?: string; limit?: number; offset?: number }): Promise<RecordData[]>;
  get(model: string, id: string): Promise<RecordData>;
  create(model: string, values: Record<string, unknown>, opts?: WriteOptions): Promise<RecordData>;
  update(model: string, id: string, values: Record<string, unknown>, opts?: WriteOptions): Promise<RecordData>;
  delete(model: string, id: string, opts?: WriteOptions): Promise<void>;
  /**
   * Similarity search over a model with embeddings (or full-text with mode "keyword"): the k
   * nearest records with their similarity as `_score` and `score` (NB: on a model with its own
   * field named `score`, `score` is that field; `_score` is always the similarity), the filter
   * applied in the same query.
   */
  search(model: string, query: SearchQuery): Promise<(RecordData & { score: number; _score: number })[]>;
}

export interface SearchQuery {
  query?: string;
  vector?: number[];
  k?: number;
  threshold?: number;
  filter?: RecordFilter;
  mode?: 'vector' | 'keyword' | 'hybrid';
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatCall {
  /** A vault secret of provider openai, anthropic, google or openai-compatible; decrypted only for the call. */
  secretId: string;
  model: string;
  system?: string;
  prompt?: string;
  messages?: ChatMessage[];
  temperature?: number;
  maxTokens?: number;
  /** A JSON Schema: the answer is also parsed and validated as this object (`object`). */
  schema?: Record<string, unknown>;
  /** Receives the text as it streams. */
  onDelta?: (text: string) => void;
  /** Pass the node's ctx.signal: a timeout or cancel stops the call. */
  signal?: AbortSignal;
}

export interface ChatAnswer {
  text: string;
  object?: unknown;
  provider: string;
  model: string;
  finishReason: string;
  usage: { inputTokens: number; outputTokens: number };
  latencyMs: number;
}

export interface EmbedCall {
  texts: string[];
  provider: 'openai' | 'openai-compatible' | 'local';
  model?: string;
  dimensions?: number;
  secretId?: string;
}

export interface AgentAnswer {
  conversationId: string;
  text: string;
  toolCalls: { name: string; input: unknown; output: unknown }[];
  usage: { inputTokens: number; outputTokens: number };
}

export interface AiCapability {
  /** One model call through the organization's key; counted against its monthly token limit. */
  chat(call: ChatCall): Promise<ChatAnswer>;
  /** Embeds texts; vectors come back normalized, in order. */
  embed(call: EmbedCall): Promise<number[][]>;
  /** Sends a message to an agent of this organization (a new conversation unless one is given). */
  agent(agentId: string, message: string, conversationId?: string): Promise<AgentAnswer>;
}

export interface ActionsCapability {
  /** Runs a pre-configured action in one transaction; resolves with its output. */
  run(actionId: string, params: Record<string, unknown>, opts?: WriteOptions): Promise<unknown>;
}

export interface RevealedSecret {
  value: string;
  provider: string;
  baseUrl: string | null;
}

export interface SecretsCapability {
  /** Decrypts a vault secret of this organization (audited). Never log or return the value. */
  reveal(secretId: string): Promise<RevealedSecret>;
}

export interface HttpRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  timeoutMs?: number;
  /** Maximum response body size in bytes; larger answers fail. */
  maxBytes?: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
  /** The URL that answered, after redirects. */
  url: string;
}

export interface HttpCapability {
  /**
   * An outbound request through the server's SSRF guard: loopback, private, link-local and
   * metadata addresses are refused unless the operator allowed them; redirects are re-checked.
   */
  request(req: HttpRequest): Promise<HttpResponse>;
}

export interface FlowsCapability {
  /**
   * Runs another flow of this organization with an input and waits for its output (a sub-flow).
   * Fails when the sub-flow fails; nesting is limited.
   */
  run(flowId: string, input: unknown): Promise<{ executionId: string; output: unknown }>;
}

/** What a node may use. A small set of capabilities, never the whole application. */
export interface NodeContext {
  executionId: string;
  nodeId: string;
  nodeName: string;
  /** 1 on the first try, then 2, 3, … on retries. */
  attempt: number;
  /**
   * The same on every attempt and after a resume: `executionId:nodeId`, and inside a loop body
   * `executionId:nodeId:item` (the item's index; `3.7` for item 7 of a loop inside item 3 of
   * another). Pass it to side effects (records writes, an `Idempotency-Key` header) so a step that
   * runs again is applied once.
   */
  idempotencyKey: string;
  records: RecordsCapability;
  actions: ActionsCapability;
  secrets: SecretsCapability;
  http: HttpCapability;
  flows: FlowsCapability;
  ai: AiCapability;
  log(level: LogLevel, message: string, data?: Record<string, unknown>): void;
  /**
   * Evaluates a JSONata expression over this node's scope (`$input`, `$node`, `$execution`),
   * time-boxed, for nodes whose parameters are expressions to apply per case or item.
   */
  expression(source: string): Promise<unknown>;
  /** Aborted when the node times out or the execution is canceled. */
  signal: AbortSignal;
  now(): Date;
}

/** The emitted ports and what each carries; a port absent from the object is not followed. */
export type NodeResult<O extends string> = Partial<Record<O, unknown>>;

export interface ExecuteArgs<P extends z.ZodType, I extends z.ZodType = z.ZodUnknown> {
  params: z.output<P>;
  /**
   * The data on the first active incoming edge (or the trigger payload for a trigger); checked
   * against and typed by the definition's `input` schema when it has one, else `unknown`.
   */
  input: z.output<I>;
  /** The data of every active incoming edge, in edge order (for merge-like nodes). */
  inputs: unknown[];
  ctx: NodeContext;
}

export type Category = 'trigger' | 'flow' | 'logic' | 'transform' | 'data' | 'http' | 'ai' | 'integration';

/**
 * How a node with several incoming edges waits: `all` (the default) runs once every incoming edge
 * is settled, if at least one carried data — right both for joining exclusive branches (if/else)
 * and for merging parallel ones; `first` runs on the first arrival and ignores later ones.
 */
export type Join = 'all' | 'first';

interface DefinitionBase<P extends z.ZodType, O extends string, I extends z.ZodType = z.ZodUnknown> {
  type: string;
  version: number;
  title: string;
  description: string;
  category: Category;
  params: P;
  outputs: readonly O[];
  /** Input handle names; default `['main']`. Triggers have none. */
  inputs?: readonly string[];
  /** Schema of the incoming data: checked before `execute` (NODE_INPUT_INVALID), and its type. */
  input?: I;
  join?: (params: z.output<P>) => Join;
  /**
   * Engine-driven control flow. `loop`: the engine runs the nodes after the "item" port once per
   * item (the body, which leads back into the node's "return" input) and emits the collected
   * results on "done"; `execute` then only turns the parameters into the item list.
   * `wait`: `execute` returns `{ main: { resumeAt, webhook } }`; the engine parks the execution
   * (durably, past a few seconds) and continues after this node when the time comes or the resume
   * URL is called.
   */
  control?: 'loop' | 'wait';
  /**
   * The node acts on nothing outside its own run: it only computes its outputs from its params
   * and input (set, transform, if, respond…; no records, no HTTP, no model calls, no child runs).
   * A flow made only of pure nodes, run on the fast path, is written once, when it has finished:
   * before that nothing happened that the record must precede, and after a crash mid-run there is
   * nothing to resume (its caller, still waiting for the answer, sees the connection fail).
   * Leave it unset when in doubt: such runs are recorded before their first node.
   */
  pure?: boolean;
  execute(args: ExecuteArgs<P, I>): Promise<NodeResult<O>>;
}

export interface NodeDefinition<P extends z.ZodType = z.ZodType, O extends string = string, I extends z.ZodType = z.ZodType> extends DefinitionBase<P, O, I> {
  kind: 'node' | 'trigger';
  inputs: readonly string[];
}

const TYPE_RE = /^[a-z][a-z0-9]*(\.[a-z][a-zA-Z0-9-]*)+$/;

function check<P extends z.ZodType, O extends string, I extends z.ZodType>(def: DefinitionBase<P, O, I>) {
  if (!TYPE_RE.test(def.type)) throw new Error(`node type "${def.type}" must look like "vendor.name"`);
  if (!Number.isInteger(def.version) || def.version < 1) throw new Error(`node ${def.type}: version must be a positive integer`);
  if (def.outputs.length === 0) throw new Error(`node ${def.type}: declare at least one output port`);
  if (new Set(def.outputs).size !== def.outputs.length) throw new Error(`node ${def.type}: duplicate output port`);
}

/** A node: takes data on its input handles, emits data on named output ports. */
export function defineNode<P extends z.ZodType, const O extends string, I extends z.ZodType = z.ZodUnknown>(
  def: DefinitionBase<P, O, I>,
): NodeDefinition<P, O, I> {
  check(def);
  return { ...def, kind: 'node', inputs: def.inputs ?? ['main'] };
}

/**
 * A trigger: the node a run starts at. Its `execute` receives the trigger payload (the webhook
 * request, the schedule tick, the record event, the manual input) as `input` and shapes it.
 */
export function defineTrigger<P extends z.ZodType, const O extends string>(
  def: Omit<DefinitionBase<P, O>, 'inputs' | 'join' | 'input'>,
): NodeDefinition<P, O, z.ZodUnknown> {
  check(def);
  return { ...def, kind: 'trigger', inputs: [] };
}

/** The JSON Schema of a node's parameters, as the editor form and agent tools use it. */
/** What a parameter's value names, so forms can offer a picker instead of a bare text box. */
export type RefKind = 'secret' | 'model' | 'flow' | 'agent' | 'action';

/**
 * Marks a parameter as a reference to a vault secret, a data model, a flow, an agent or an
 * action: its JSON Schema carries `"x-ref": kind` and the editor shows a picker. Validation is
 * unchanged.
 */
export function ref<T extends z.ZodType>(kind: RefKind, schema: T): T {
  return schema.meta({ 'x-ref': kind });
}

export function paramsJsonSchema<P extends z.ZodType, O extends string, I extends z.ZodType>(def: NodeDefinition<P, O, I>): Record<string, unknown> {
  return z.toJSONSchema(def.params, { unrepresentable: 'any', io: 'input' });
}

/**
 * The public description of a node type (`GET /api/v1/node-types`, the contracts' NodeTypeInfo).
 * Parameter schemas are objects (zod object schemas), so zod's JSON Schema output — whose type
 * also admits boolean schemas — is the contracts' JsonSchema.
 */
export function describeNode<P extends z.ZodType, O extends string, I extends z.ZodType>(def: NodeDefinition<P, O, I>): NodeTypeInfo {
  return {
    type: def.type,
    version: def.version,
    kind: def.kind,
    title: def.title,
    description: def.description,
    category: def.category,
    inputs: [...def.inputs],
    outputs: [...def.outputs],
    ...(def.control ? { control: def.control } : {}),
    params: paramsJsonSchema(def),
    ...(def.input ? { input: z.toJSONSchema(def.input, { unrepresentable: 'any', io: 'input' }) as JsonSchema } : {}),
  };
}

/** How a NodeError is classified; every field is optional. */
export interface NodeErrorOptions {
  /**
   * Stable SCREAMING_SNAKE code that flows and clients branch on (default `NODE_FAILED`). The
   * built-in nodes' codes are listed in docs/errors.md; a node of your own should prefix its codes
   * with its name (`SLUGIFY_BAD_INPUT`).
   */
  code?: string;
  /** Data a person needs to act on the failure (a field list, a status); never secret values. */
  details?: unknown;
  /** false: retrying cannot help (bad input); the engine skips remaining attempts. Default true. */
  retryable?: boolean;
  /** The underlying error, kept for logs (never shown to clients). */
  cause?: unknown;
}

/**
 * Thrown by a node for a failure the user can act on (bad parameter value, refused request):
 *   throw new NodeError('The answer is not JSON.', { code: 'HTTP_BAD_RESPONSE', retryable: false });
 */
export class NodeError extends Error {
  readonly code: string;
  readonly details?: unknown;
  readonly retryable: boolean;

  constructor(message: string, options: NodeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NodeError';
    this.code = options.code ?? 'NODE_FAILED';
    this.details = options.details;
    this.retryable = options.retryable ?? true;
  }
}
