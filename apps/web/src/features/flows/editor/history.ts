/** Undo/redo over immutable snapshots: each edit pushes the previous state; at most `cap` kept. */
export interface History<T> {
  past: T[];
  present: T;
  future: T[];
}

export const startHistory = <T>(present: T): History<T> => ({ past: [], present, future: [] });

export function record<T>(h: History<T>, next: T, cap = 100): History<T> {
  if (next === h.present) return h;
  return { past: [...h.past, h.present].slice(-cap), present: next, future: [] };
}

/** Replace the present without an undo step (a drag in progress, a server echo). */
export const replace = <T>(h: History<T>, next: T): History<T> => ({ ...h, present: next });

export function undo<T>(h: History<T>): History<T> {
  const prev = h.past.at(-1);
  return prev === undefined ? h : { past: h.past.slice(0, -1), present: prev, future: [h.present, ...h.future] };
}

export function redo<T>(h: History<T>): History<T> {
  const [next, ...rest] = h.future;
  return next === undefined ? h : { past: [...h.past, h.present], present: next, future: rest };
}
