import { createAnthropic } from '@ai-sdk/anthropic';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { createOpenAI } from '@ai-sdk/openai';
import type { EmbeddingModel, LanguageModel } from 'ai';
import { aiErrors } from './ai.errors.js';

/** Model providers that Infinity calls through the Vercel AI SDK. */
export const CHAT_PROVIDERS = ['openai', 'anthropic', 'google', 'openai-compatible'] as const;
export type ChatProvider = (typeof CHAT_PROVIDERS)[number];
export const EMBEDDING_PROVIDERS = ['openai', 'openai-compatible', 'local'] as const;

export interface ProviderCredentials {
  provider: ChatProvider;
  apiKey: string;
  /** The secret's base URL (a proxy, a regional endpoint, a local Ollama); the provider's own otherwise. */
  baseUrl: string | null;
  /** The SSRF-guarded fetch: base URLs on private addresses pass only when the operator allows them. */
  fetch: typeof globalThis.fetch;
}

const trim = (u: string | null) => (u ? u.replace(/\/+$/, '') : undefined);

/**
 * A chat model. OpenAI-compatible servers (Ollama, vLLM, LM Studio) speak chat completions, so
 * they — and OpenAI itself, for one wire format everywhere — use the `.chat()` model, not the
 * Responses API that `openai(id)` would call.
 */
export function languageModel(c: ProviderCredentials, model: string): LanguageModel {
  const baseURL = trim(c.baseUrl);
  const common = { apiKey: c.apiKey, fetch: c.fetch, ...(baseURL ? { baseURL } : {}) };
  switch (c.provider) {
    case 'openai':
      return createOpenAI(common).chat(model);
    case 'openai-compatible':
      if (!baseURL) throw aiErrors.AI_PROVIDER_UNSUPPORTED('An openai-compatible secret needs a base URL (for example http://localhost:11434/v1).');
      return createOpenAI({ ...common, name: 'openai-compatible' }).chat(model);
    case 'anthropic':
      return createAnthropic(common)(model);
    case 'google':
      return createGoogleGenerativeAI(common)(model);
  }
}

export function embeddingModel(c: ProviderCredentials, model: string): EmbeddingModel {
  const baseURL = trim(c.baseUrl);
  if (c.provider !== 'openai' && c.provider !== 'openai-compatible')
    throw aiErrors.AI_PROVIDER_UNSUPPORTED(`Embeddings are served by openai or openai-compatible secrets, not ${c.provider}.`);
  if (c.provider === 'openai-compatible' && !baseURL) throw aiErrors.AI_PROVIDER_UNSUPPORTED('An openai-compatible secret needs a base URL.');
  return createOpenAI({ apiKey: c.apiKey, fetch: c.fetch, ...(baseURL ? { baseURL } : {}) }).embedding(model);
}
