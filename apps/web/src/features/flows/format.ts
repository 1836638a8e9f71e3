/** How executions read as text, shared by the trace view and the editor's run panels. */

/** A node run's log lines as text. */
export const logText = (logs: unknown) =>
  Array.isArray(logs) ? (logs as { level?: string; message?: string }[]).map((l) => `${l.level ?? 'info'}  ${l.message ?? ''}`).join('\n') : '';
/** The message of an execution's error, if it has one. */
export const errorMessage = (e: unknown) =>
  e && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string' ? (e as { message: string }).message : '';
