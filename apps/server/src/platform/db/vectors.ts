/**
 * A vector as the text a query casts: `[1,2,3]` for pgvector's `vector`, `{1,2,3}` for the
 * `real[]` that stands in without pgvector (and for agents' memory, always `real[]`).
 */
export function vectorLiteral(v: readonly number[], pgvector: boolean): string {
  const body = v.join(',');
  return pgvector ? `[${body}]` : `{${body}}`;
}
