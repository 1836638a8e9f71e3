/**
 * Vector search (`GET /models/{name}/embeddings` → `search`): the HNSW search widths a model's
 * searches walk until its own searches are measured, without and with a filter, and how many
 * searches of a kind a measurement takes. No zod here: the web UI imports this file alone
 * (`@infinity/contracts/search`), so its bundle does not carry the schemas.
 */
export const SEARCH_WIDTH_DEFAULTS = { plain: 300, filtered: 450 } as const;
export const SEARCH_WIDTH_SAMPLES = 64;
