export { type AiContext, type ChatRequest, type ChatResult, type EmbeddingSettings, chat, embedTexts, assertWithinTokenLimit } from './ai.service.js';
export { EmbeddingWorker, embeddingStatus, EMBEDDINGS_CHANNEL } from './embeddings.js';
export { aiErrors } from './ai.errors.js';
export { CHAT_PROVIDERS, EMBEDDING_PROVIDERS, type ChatProvider } from './providers.js';
export { localEmbed } from './local-embedder.js';
export { aiContext, aiModule, searchEmbedder } from './ai.module.js';
