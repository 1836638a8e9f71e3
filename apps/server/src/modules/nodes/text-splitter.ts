import type { Tiktoken } from 'js-tiktoken/lite';

/**
 * Splits text into chunks of at most `size` units with `overlap` units repeated between
 * neighbours. Characters: a chunk ends at the last paragraph break, line break, sentence end or
 * space in its second half, so words are not cut. Tokens: cl100k_base (the tokenizer of OpenAI's
 * GPT-4 family and its embedding models), cut on token boundaries.
 */
export interface Chunk {
  index: number;
  text: string;
  /** Offsets in the source text (characters). */
  start: number;
  end: number;
}

const BREAKS = ['\n\n', '\n', '. ', '! ', '? ', '; ', ', ', ' '];

export function splitByCharacters(text: string, size: number, overlap: number): Chunk[] {
  const chunks: Chunk[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + size);
    if (end < text.length) {
      const window = text.slice(start, end);
      for (const b of BREAKS) {
        const at = window.lastIndexOf(b);
        if (at >= size / 2) {
          end = start + at + b.length;
          break;
        }
      }
    }
    const piece = text.slice(start, end);
    if (piece.trim()) chunks.push({ index: chunks.length, text: piece.trim(), start, end });
    if (end >= text.length) break;
    start = Math.max(end - overlap, start + 1);
  }
  return chunks;
}

let encoder: Promise<Tiktoken> | undefined;
/** Loaded on first use: the rank table is large and most flows never split by tokens. */
function cl100k(): Promise<Tiktoken> {
  encoder ??= Promise.all([import('js-tiktoken/lite'), import('js-tiktoken/ranks/cl100k_base')]).then(([lite, ranks]) => new lite.Tiktoken(ranks.default));
  return encoder;
}

export async function splitByTokens(text: string, size: number, overlap: number): Promise<Chunk[]> {
  const enc = await cl100k();
  const tokens = enc.encode(text);
  const chunks: Chunk[] = [];
  let offset = 0;
  for (let start = 0; start < tokens.length; start = Math.max(start + size - overlap, start + 1)) {
    const piece = enc.decode(tokens.slice(start, start + size));
    const at = text.indexOf(piece.trim(), Math.max(0, offset - piece.length));
    const begin = at >= 0 ? at : offset;
    if (piece.trim()) chunks.push({ index: chunks.length, text: piece.trim(), start: begin, end: begin + piece.length });
    offset = begin + 1;
    if (start + size >= tokens.length) break;
  }
  return chunks;
}
