/**
 * The offline embedder: deterministic, dependency-free and LEXICAL — it hashes words, word pairs
 * and character trigrams into a fixed number of dimensions (signed feature hashing) and
 * normalizes the result. Texts that share words and spellings score high; synonyms and
 * paraphrases do not. Meant for development, tests and air-gapped installs; use a provider
 * (OpenAI, or a local Ollama through openai-compatible) for semantic search.
 */

const WORD = /[\p{L}\p{N}]+/gu;

/** FNV-1a, 32 bits. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function localEmbed(text: string, dimensions: number): number[] {
  const v = new Float64Array(dimensions);
  const add = (feature: string, weight: number) => {
    const h = hash(feature);
    v[h % dimensions]! += h & 0x80000000 ? -weight : weight;
  };
  const words = text.normalize('NFKC').toLowerCase().match(WORD) ?? [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    add(`w:${w}`, 1);
    if (i > 0) add(`b:${words[i - 1]} ${w}`, 0.5);
    const padded = `^${w}$`;
    for (let j = 0; j + 3 <= padded.length; j++) add(`c:${padded.slice(j, j + 3)}`, 0.25);
  }
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  return Array.from(v, (x) => (norm ? x / norm : 0));
}

/** Words in a text: the local embedder's token count (it has no tokenizer of its own). */
export const countWords = (text: string) => (text.match(WORD) ?? []).length;
