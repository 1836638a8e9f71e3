/**
 * Server messages as text. An event's data is serialized once (`body`); each subscriber's frame is
 * that text concatenated with its subscription id, so 10,000 subscribers cost 10,000 string joins,
 * not 10,000 JSON.stringify calls.
 *
 * WebSocket: {"type":"event","id":<subscription>,"eventId","event","match"?,"data","at"}
 * SSE:       id: <eventId>\nevent: <event>\ndata: {"eventId","event","match"?,"data","at"}\n\n
 */

/** `match` on filtered records subscriptions: the update made the record enter or leave the filter. */
export type Match = 'entered' | 'left' | undefined;

export interface EventText {
  eventId: string;
  event: string;
  /** JSON of the event's data. */
  body: string;
  at: string;
}

function inner(e: EventText, match: Match): string {
  return `"eventId":"${e.eventId}","event":"${e.event}"${match ? `,"match":"${match}"` : ''},"data":${e.body},"at":"${e.at}"`;
}

export const wsEvent = (idJson: string, e: EventText, match: Match): string => `{"type":"event","id":${idJson},${inner(e, match)}}`;
export const sseEvent = (e: EventText, match: Match): string => `id: ${e.eventId}\nevent: ${e.event}\ndata: {${inner(e, match)}}\n\n`;

export interface ErrorBody {
  code: string;
  message: string;
  details?: unknown;
}

export const wsError = (id: string | undefined, error: ErrorBody): string => JSON.stringify({ type: 'error', ...(id === undefined ? {} : { id }), error });
export const sseError = (error: ErrorBody): string => `event: error\ndata: ${JSON.stringify({ error })}\n\n`;
