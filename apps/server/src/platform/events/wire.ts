import type { DomainEvent as TypedEvent } from '@infinity/contracts';

/**
 * Messages between the spines of one installation (JSON over the transport). `o` is the sender's
 * origin; receivers drop their own.
 * - `events`: committed events, in commit order;
 * - `ref`: an `events` message too large for the transport, stored in `event_payloads`;
 * - `wake`: the sender wrote outbox rows and does not drain them itself;
 * - `hello`: the sender (re)joined: others re-announce their interest;
 * - `interest`: the ephemeral types the sender listens to (replaces its previous announcement).
 */
export type Wire =
  | { k: 'events'; o: string; e: TypedEvent[] }
  | { k: 'ref'; o: string; id: string }
  | { k: 'wake'; o: string }
  | { k: 'hello'; o: string }
  | { k: 'interest'; o: string; types: string[] };

/** A message from the transport, or undefined when it is not one of ours (never throws). */
export function parseWire(raw: string): Wire | undefined {
  let m: unknown;
  try {
    m = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof m !== 'object' || m === null) return undefined;
  const w = m as Record<string, unknown>;
  if (typeof w.o !== 'string') return undefined;
  switch (w.k) {
    case 'events':
      return Array.isArray(w.e) ? (w as Wire) : undefined;
    case 'ref':
      return typeof w.id === 'string' ? (w as Wire) : undefined;
    case 'wake':
    case 'hello':
      return w as Wire;
    case 'interest':
      return Array.isArray(w.types) && w.types.every((t) => typeof t === 'string') ? (w as Wire) : undefined;
    default:
      return undefined;
  }
}
