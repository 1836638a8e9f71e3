import { NodeError, defineNode, ref } from '@infinity/node-sdk';
import { z } from 'zod';
import { splitByCharacters, splitByTokens } from './text-splitter.js';

const provider = z.enum(['openai', 'anthropic', 'google', 'openai-compatible']);
const message = z.strictObject({ role: z.enum(['system', 'user', 'assistant']), content: z.string().max(200_000) });

/**
 * LLM chat: one call to OpenAI, Anthropic, Google Gemini or an OpenAI-compatible server with a
 * key from the vault. The answer streams into the execution log; with a JSON Schema it is also
 * parsed into `object`. Usage is recorded and the organization's monthly token limit checked first.
 */
export const chatNode = defineNode({
  type: 'ai.chat',
  version: 1,
  title: 'LLM chat',
  description:
    'Asks a language model (OpenAI, Anthropic, Gemini, OpenAI-compatible such as Ollama) with a key from the vault. Emits {text, object?, usage, model, provider, finishReason}.',
  category: 'ai',
  params: z
    .strictObject({
      secretId: ref('secret', z.uuid()).describe('vault secret of the provider (its base URL, if any, is used)'),
      provider: provider.optional().describe('must match the secret’s provider when given'),
      model: z.string().trim().min(1).max(200).describe('e.g. gpt-4o-mini, claude-sonnet-4-5, gemini-2.5-flash, llama3.2'),
      system: z.string().max(100_000).optional(),
      prompt: z.string().max(200_000).optional().describe('the user message; use {{ }} for expressions'),
      messages: z.array(message).max(500).optional().describe('a conversation instead of a prompt'),
      temperature: z.number().min(0).max(2).optional(),
      maxTokens: z.number().int().min(1).max(200_000).optional(),
      schema: z.record(z.string(), z.unknown()).optional().describe('JSON Schema of a structured answer'),
      stream: z.boolean().default(true).describe('write the answer to the execution log as it streams'),
    })
    .refine((p) => p.prompt !== undefined || p.messages !== undefined, 'give a prompt or messages'),
  outputs: ['main'],
  execute: async ({ params, ctx }) => {
    let pending = '';
    const flush = () => {
      if (pending) ctx.log('info', pending, { stream: true });
      pending = '';
    };
    const answer = await ctx.ai.chat({
      secretId: params.secretId,
      model: params.model,
      ...(params.system !== undefined ? { system: params.system } : {}),
      ...(params.prompt !== undefined ? { prompt: params.prompt } : {}),
      ...(params.messages ? { messages: params.messages } : {}),
      ...(params.temperature !== undefined ? { temperature: params.temperature } : {}),
      ...(params.maxTokens !== undefined ? { maxTokens: params.maxTokens } : {}),
      ...(params.schema ? { schema: params.schema } : {}),
      signal: ctx.signal,
      ...(params.stream
        ? {
            onDelta: (t: string) => {
              pending += t;
              // One log line per line of the answer (or per 500 characters), not per token.
              if (pending.includes('\n') || pending.length >= 500) flush();
            },
          }
        : {}),
    });
    flush();
    if (params.provider && params.provider !== answer.provider)
      throw new NodeError(`The secret is for ${answer.provider}, not ${params.provider}.`, { code: 'AI_PROVIDER_MISMATCH', retryable: false });
    ctx.log('info', `${answer.provider}/${answer.model}: ${answer.usage.inputTokens} in, ${answer.usage.outputTokens} out, ${answer.latencyMs} ms`);
    return { main: answer };
  },
});

export const promptNode = defineNode({
  type: 'ai.prompt',
  pure: true,
  version: 1,
  title: 'Prompt template',
  description: 'Renders a prompt from a template with {{ }} expressions over $input and $node. Emits {prompt}.',
  category: 'ai',
  params: z.strictObject({ template: z.string().max(200_000).describe('text with {{ expressions }}, e.g. "Answer using:\\n{{ $input.context }}"') }),
  outputs: ['main'],
  execute: ({ params }) => Promise.resolve({ main: { prompt: params.template } }),
});

export const splitNode = defineNode({
  type: 'ai.split',
  pure: true,
  version: 1,
  title: 'Text splitter',
  description:
    'Cuts a text into overlapping chunks by characters (at paragraph, sentence or word ends) or by tokens (cl100k). Emits the list of {index, text, start, end}.',
  category: 'ai',
  params: z
    .strictObject({
      text: z.string().max(20_000_000).describe('e.g. {{ $input.body }}'),
      unit: z.enum(['characters', 'tokens']).default('characters'),
      size: z.number().int().min(10).max(100_000).default(1000),
      overlap: z.number().int().min(0).max(50_000).default(200),
    })
    .refine((p) => p.overlap < p.size, 'overlap must be smaller than size'),
  outputs: ['main'],
  execute: async ({ params }) => ({
    main:
      params.unit === 'tokens' ? await splitByTokens(params.text, params.size, params.overlap) : splitByCharacters(params.text, params.size, params.overlap),
  }),
});

export const embedNode = defineNode({
  type: 'ai.embed',
  version: 1,
  title: 'Embed text',
  description:
    'Turns a text (or a list of texts) into vectors with OpenAI, an OpenAI-compatible server, or the offline lexical embedder. Emits {vector} or {vectors}, and dimensions.',
  category: 'ai',
  params: z.strictObject({
    text: z.union([z.string().max(1_000_000), z.array(z.string().max(1_000_000)).max(2048)]),
    provider: z.enum(['openai', 'openai-compatible', 'local']).default('openai'),
    model: z.string().trim().min(1).max(200).default('text-embedding-ada-002'),
    dimensions: z.number().int().min(2).max(4000).default(1536),
    secretId: ref('secret', z.uuid()).optional(),
  }),
  outputs: ['main'],
  execute: async ({ params, ctx }) => {
    const texts = Array.isArray(params.text) ? params.text : [params.text];
    const vectors = await ctx.ai.embed({
      texts,
      provider: params.provider,
      model: params.model,
      dimensions: params.dimensions,
      ...(params.secretId ? { secretId: params.secretId } : {}),
    });
    return { main: Array.isArray(params.text) ? { vectors, dimensions: params.dimensions } : { vector: vectors[0], dimensions: params.dimensions } };
  },
});

/**
 * Retrieve for RAG: the k records of a model nearest to a query, and a numbered `context` text
 * of their text fields to put in a prompt.
 */
export const retrieveNode = defineNode({
  type: 'ai.retrieve',
  version: 1,
  title: 'Retrieve',
  description:
    'Similarity search over a model with embeddings (vector, keyword or hybrid) with an optional records filter. Emits {query, records (each with score), context}.',
  category: 'ai',
  params: z.strictObject({
    model: ref('model', z.string().min(1).max(63)),
    query: z.string().min(1).max(8000),
    k: z.number().int().min(1).max(256).default(4),
    filter: z.record(z.string(), z.unknown()).optional(),
    mode: z.enum(['vector', 'keyword', 'hybrid']).default('vector'),
    threshold: z.number().min(-1).max(1).optional(),
  }),
  outputs: ['main'],
  execute: async ({ params, ctx }) => {
    const records = await ctx.records.search(params.model, {
      query: params.query,
      k: params.k,
      mode: params.mode,
      ...(params.filter ? { filter: params.filter } : {}),
      ...(params.threshold !== undefined ? { threshold: params.threshold } : {}),
    });
    const text = (r: Record<string, unknown>) =>
      Object.entries(r)
        .filter(([k, v]) => typeof v === 'string' && !['id', 'createdAt', 'updatedAt', 'createdBy', 'updatedBy'].includes(k))
        .map(([, v]) => v as string)
        .join('\n');
    const context = records.map((r, i) => `[${i + 1}] ${text(r)}`).join('\n\n');
    ctx.log('info', `${records.length} record(s) from ${params.model}`, { scores: records.map((r) => r.score) });
    return { main: { query: params.query, records, context } };
  },
});

export const agentNode = defineNode({
  type: 'ai.agent',
  version: 1,
  title: 'Agent',
  description:
    'Sends a message to an agent of this organization (its tools, memory and model) and waits for the reply. Emits {conversationId, text, toolCalls, usage}.',
  category: 'ai',
  params: z.strictObject({
    agentId: ref('agent', z.uuid()),
    message: z.string().min(1).max(100_000),
    conversationId: z.uuid().optional().describe('continue a conversation; a new one otherwise'),
  }),
  outputs: ['main'],
  execute: async ({ params, ctx }) => ({ main: await ctx.ai.agent(params.agentId, params.message, params.conversationId) }),
});

export const aiNodes = [chatNode, promptNode, splitNode, embedNode, retrieveNode, agentNode];
