/** The longest JSON an event carries whole as a summary of an output (characters); longer ones become a marked preview. */
const SUMMARY_BYTES = 2048;

/**
 * An output as events carry it (`execution.node.finished`'s outputSummary, `agent.step`'s tool
 * results): whole when small, else `{ $truncated, bytes, preview }` — as stored node runs are capped.
 * NB: mask secrets before, not after: the preview is a cut of the JSON text.
 */
export function summary(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  const s = JSON.stringify(value);
  return s.length > SUMMARY_BYTES ? { $truncated: true, bytes: s.length, preview: s.slice(0, SUMMARY_BYTES / 2) } : value;
}
