import { type JSONValue, type ModelMessage, Output, type ToolSet, embedMany, jsonSchema, stepCountIs, streamText } from 'ai';
import type { Kysely } from 'kysely';
import { AppError } from '../../platform/errors.js';
import { OutboundRefused } from '../../platform/net/outbound-http.js';
import type { OrgActor } from '../access/index.js';
import { Redactor } from '../../platform/redact.js';
import { type VaultContext, assertHostAllowed, revealSecret } from '../vault/index.js';
import { aiErrors } from './ai.errors.js';
import { countWords, localEmbed } from './local-embedder.js';
import { CHAT_PROVIDERS, type ChatProvider, type ProviderCredentials, embeddingModel, languageModel } from './providers.js';
import type { QuotaGate } from '../usage/index.js';
import { type AiTables, type UsageEntry, recordUsage } from './usage.js';

export interface AiContext {
  db: Kysely<AiTables>;
  vault: VaultContext;
  /** The SSRF-guarded fetch every provider call goes through. */
  fetch: typeof globalThis.fetch;
  /** The plan's monthly token limit: checked before each call, told of the tokens after. */
  quota: QuotaGate;
  /** Told of every model call's tokens (metrics). */
  observe?: (e: UsageEntry) => void;
}

interface Credentials extends ProviderCredentials {
  /** Removes the key (and provider echoes of it) from a provider's message. */
  scrub: (text: string) => string;
  /** A copy of JSON-like data with the key masked (what tool callbacks report). */
  redact: <T>(value: T) => T;
}

/**
 * Decrypts the key at call time, for this call only; it goes to the provider and nowhere else:
 * every request the SDK makes with it is checked against the secret's allowed hosts.
 */
export async function credentials(ctx: AiContext, actor: OrgActor, secretId: string, purpose: string): Promise<Credentials> {
  const s = await revealSecret(ctx.vault, actor, secretId, purpose);
  if (!(CHAT_PROVIDERS as readonly string[]).includes(s.provider)) {
    throw aiErrors.AI_PROVIDER_UNSUPPORTED(`The secret is for ${s.provider}; a model call needs an openai, anthropic, google or openai-compatible secret.`);
  }
  const key = new Redactor([s.value]);
  const guarded: typeof globalThis.fetch = (input, init) => {
    assertHostAllowed(s, typeof input === 'string' ? input : input instanceof URL ? input : input.url);
    return ctx.fetch(input, init);
  };
  return {
    provider: s.provider as ChatProvider,
    apiKey: s.value,
    baseUrl: s.baseUrl,
    fetch: guarded,
    scrub: (text) =>
      key
        .text(text)
        // Providers echo a masked key ("Incorrect API key provided: sk-ab***********yz").
        .replace(/[A-Za-z0-9_-]*\*{3,}[A-Za-z0-9_-]*/g, '[redacted]')
        .slice(0, 1000),
    redact: (value) => key.deep(value),
  };
}

/** Refuses a model call before it is made when the organization's monthly tokens are used up. */
export async function assertWithinTokenLimit(ctx: AiContext, orgId: string): Promise<void> {
  await ctx.quota.check(orgId, 'tokensPerMonth', 0);
}

async function record(ctx: AiContext, e: UsageEntry): Promise<void> {
  await recordUsage(ctx.db, e);
  ctx.observe?.(e);
  ctx.quota.grew(e.orgId, 'tokensPerMonth', e.inputTokens + e.outputTokens);
}

function causes(err: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e = err, i = 0; e && i < 6; e = (e as { cause?: unknown }).cause, i++) out.push(e);
  return out;
}

/** A provider failure as a client may see it: status and reason, the key scrubbed. */
export function providerError(err: unknown, provider: string, scrub: (s: string) => string): AppError {
  if (err instanceof AppError) return err;
  const chain = causes(err);
  // Ours, raised inside the SDK's fetch (a host the secret does not allow): as it was.
  const own = chain.find((e): e is AppError => e instanceof AppError);
  if (own) return own;
  const refused = chain.find((e): e is OutboundRefused => e instanceof OutboundRefused);
  if (refused) return aiErrors.AI_BASE_URL_REFUSED(refused.message);
  const withStatus = chain.find((e) => typeof (e as { statusCode?: unknown }).statusCode === 'number') as { statusCode: number; message: string } | undefined;
  const last = (err as { lastError?: unknown }).lastError;
  const base = withStatus ?? (last as { statusCode?: number; message?: string } | undefined) ?? (err as Error);
  const status = (base as { statusCode?: number }).statusCode;
  const message = scrub(String((base as Error).message ?? 'unknown error'));
  return aiErrors.AI_PROVIDER_ERROR(`${provider} ${status ? `answered ${status}` : 'failed'}: ${message}`, {
    provider,
    status: status ?? null,
    retryable: status === undefined || status === 429 || status >= 500,
  });
}

export interface ChatRequest {
  secretId: string;
  model: string;
  system?: string | undefined;
  prompt?: string | undefined;
  messages?: ModelMessage[] | undefined;
  temperature?: number | undefined;
  maxTokens?: number | undefined;
  /** A JSON Schema: the answer is an object of this shape (`object`), validated. */
  schema?: Record<string, unknown> | undefined;
  tools?: ToolSet | undefined;
  /** Model ↔ tool round trips before the answer must be final. */
  maxSteps?: number | undefined;
  signal?: AbortSignal | undefined;
  onDelta?: ((text: string) => void) | undefined;
  onToolCall?: ((call: { id: string; name: string; input: unknown }) => void) | undefined;
  onToolResult?: ((result: { id: string; name: string; output: unknown; error?: string }) => void) | undefined;
  /** Recorded with the usage: "flow <id>", "agent <id>". */
  source: string;
}

export interface ChatResult {
  text: string;
  object?: unknown;
  provider: string;
  model: string;
  finishReason: string;
  usage: { inputTokens: number; outputTokens: number };
  latencyMs: number;
  /** The assistant and tool messages the call produced (for conversations). */
  responseMessages: ModelMessage[];
}

/**
 * One model call (with tool round trips when tools are given), streamed so deltas reach the
 * caller as they come. The quota is checked first; usage is recorded whether it succeeds or not.
 */
export async function chat(ctx: AiContext, actor: OrgActor, req: ChatRequest): Promise<ChatResult> {
  await assertWithinTokenLimit(ctx, actor.orgId);
  const c = await credentials(ctx, actor, req.secretId, req.source);
  const model = languageModel(c, req.model);
  const started = performance.now();
  let usage = { inputTokens: 0, outputTokens: 0 };
  try {
    const prompt = req.messages ? { messages: req.messages } : { prompt: req.prompt ?? '' };
    const result = streamText({
      model,
      ...prompt,
      ...(req.system ? { system: req.system } : {}),
      ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
      ...(req.maxTokens !== undefined ? { maxOutputTokens: req.maxTokens } : {}),
      ...(req.tools ? { tools: req.tools, stopWhen: stepCountIs(req.maxSteps ?? 5) } : {}),
      ...(req.schema ? { output: Output.object({ schema: jsonSchema<JSONValue>(req.schema as never) }) } : {}),
      ...(req.signal ? { abortSignal: req.signal } : {}),
      maxRetries: 2,
      onError: () => undefined,
    });
    for await (const part of result.fullStream) {
      if (part.type === 'text-delta') req.onDelta?.(part.text);
      // What callbacks report (streamed, stored, published) never carries the key: a model may echo it into a tool call.
      else if (part.type === 'tool-call') req.onToolCall?.({ id: part.toolCallId, name: part.toolName, input: c.redact(part.input) });
      else if (part.type === 'tool-result') req.onToolResult?.({ id: part.toolCallId, name: part.toolName, output: c.redact(part.output) });
      else if (part.type === 'tool-error')
        req.onToolResult?.({ id: part.toolCallId, name: part.toolName, output: null, error: c.scrub(String((part.error as Error)?.message ?? part.error)) });
      else if (part.type === 'error') throw part.error;
    }
    const total = await result.totalUsage;
    usage = { inputTokens: total.inputTokens ?? 0, outputTokens: total.outputTokens ?? 0 };
    const response = await result.response;
    return {
      text: await result.text,
      ...(req.schema ? { object: await result.output } : {}),
      provider: c.provider,
      model: req.model,
      finishReason: await result.finishReason,
      usage,
      latencyMs: Math.round(performance.now() - started),
      responseMessages: response.messages,
    };
  } catch (err) {
    throw providerError(err, c.provider, c.scrub);
  } finally {
    await record(ctx, {
      orgId: actor.orgId,
      provider: c.provider,
      model: req.model,
      kind: 'chat',
      ...usage,
      latencyMs: performance.now() - started,
      source: req.source,
    });
  }
}

export interface EmbeddingSettings {
  provider: 'openai' | 'openai-compatible' | 'local';
  model: string;
  dimensions: number;
  secretId?: string | null | undefined;
}

/** Unit length, so cosine similarity is a dot product (the real[] fallback relies on it). */
function normalize(v: number[]): number[] {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  return n ? v.map((x) => x / n) : v;
}

/** Embeds texts with a model's settings; the vectors come back normalized, in order. */
export async function embedTexts(
  ctx: AiContext,
  actor: OrgActor,
  s: EmbeddingSettings,
  texts: string[],
  source: string,
  signal?: AbortSignal,
): Promise<number[][]> {
  if (s.provider === 'local') return texts.map((t) => localEmbed(t, s.dimensions));
  if (!s.secretId) throw aiErrors.EMBEDDING_SETTINGS_INVALID(`The ${s.provider} embedding provider needs a secretId.`);
  await assertWithinTokenLimit(ctx, actor.orgId);
  const c = await credentials(ctx, actor, s.secretId, source);
  const started = performance.now();
  let tokens = 0;
  try {
    const model = embeddingModel(c, s.model);
    const res = await embedMany({
      model,
      values: texts,
      maxRetries: 0,
      ...(signal ? { abortSignal: signal } : {}),
      ...(s.model.startsWith('text-embedding-3') ? { providerOptions: { openai: { dimensions: s.dimensions } } } : {}),
    });
    tokens = res.usage?.tokens ?? texts.reduce((a, t) => a + countWords(t), 0);
    const wrong = res.embeddings.find((e) => e.length !== s.dimensions);
    if (wrong)
      throw aiErrors.AI_PROVIDER_ERROR(
        `${s.model} returned ${wrong.length} dimensions; the model is set to ${s.dimensions}. Change the embedding settings to match.`,
        { provider: c.provider, status: null, retryable: false },
      );
    return res.embeddings.map(normalize);
  } catch (err) {
    throw providerError(err, c.provider, c.scrub);
  } finally {
    await record(ctx, {
      orgId: actor.orgId,
      provider: c.provider,
      model: s.model,
      kind: 'embedding',
      inputTokens: tokens,
      outputTokens: 0,
      latencyMs: performance.now() - started,
      source,
    });
  }
}
