import { z } from 'zod';

/**
 * The realtime wire protocol (SPEC §6): what clients send, validated by these schemas. Server
 * messages are built as text in realtime.frames.ts.
 */

/** Largest client message (bytes); the WebSocket closes on a bigger frame. */
export const MAX_MESSAGE_BYTES = 64 * 1024;
/**
 * Client messages one connection may send: a burst of this many, refilled at this rate a second, and
 * at most MAX_QUEUED waiting to be handled (each subscribe may compile and check a filter). A client
 * beyond it is closed with REALTIME_RATE_LIMITED: one tenant's flood never holds the event loop.
 */
export const MESSAGE_BURST = 200;
export const MESSAGES_PER_SECOND = 50;
export const MAX_QUEUED = 200;
/** Subscriptions one connection may hold. */
export const MAX_SUBSCRIPTIONS = 100;

const uuid = z.uuid();
const filter = z.record(z.string(), z.unknown());

/** Each channel's parameters (the same in a WebSocket subscribe message and in SSE query parameters). */
const channels = [
  z.strictObject({ channel: z.literal('records'), model: z.string().min(1).max(63), filter: filter.optional() }),
  z.strictObject({ channel: z.literal('execution'), executionId: uuid }),
  z.strictObject({ channel: z.literal('executions'), flowId: uuid.optional() }),
  z.strictObject({ channel: z.literal('flow'), flowId: uuid }),
  z.strictObject({ channel: z.literal('agents'), agentId: uuid.optional(), conversationId: uuid.optional() }),
  z.strictObject({ channel: z.literal('notifications') }),
  z.strictObject({ channel: z.literal('stats') }),
] as const;

export const channelSchema = z.discriminatedUnion('channel', channels);
export type ChannelParams = z.infer<typeof channelSchema>;
export type ChannelName = ChannelParams['channel'];

const subscriptionId = z.string().min(1).max(64);
const subscribe = z.discriminatedUnion(
  'channel',
  channels.map((c) => c.extend({ type: z.literal('subscribe'), id: subscriptionId, lastEventId: z.uuid().optional() })) as unknown as [
    z.ZodObject<{ channel: z.ZodLiteral<'records'> }>,
    ...z.ZodObject<{ channel: z.ZodLiteral<ChannelName> }>[],
  ],
);

const auth = z
  .strictObject({ type: z.literal('auth'), token: z.string().min(1).max(8192).optional(), apiKey: z.string().min(1).max(512).optional() })
  .refine((m) => (m.token === undefined) !== (m.apiKey === undefined), 'send exactly one of token and apiKey');

export type ClientMessage =
  | { type: 'auth'; token?: string | undefined; apiKey?: string | undefined }
  | ({ type: 'subscribe'; id: string; lastEventId?: string | undefined } & ChannelParams)
  | { type: 'unsubscribe'; id: string }
  | { type: 'ping' };

const byType = {
  auth,
  subscribe,
  unsubscribe: z.strictObject({ type: z.literal('unsubscribe'), id: subscriptionId }),
  ping: z.strictObject({ type: z.literal('ping') }),
};

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string; details: { field: string; message: string }[] };

function issues(error: z.ZodError): { field: string; message: string }[] {
  return error.issues.slice(0, 10).map((i) => ({ field: i.path.join('.'), message: i.message }));
}

/** A client message from its text: JSON, a known type, and that type's schema. */
export function parseClientMessage(text: string): Parsed<ClientMessage> {
  if (Buffer.byteLength(text) > MAX_MESSAGE_BYTES) return { ok: false, message: `Messages are at most ${MAX_MESSAGE_BYTES} bytes.`, details: [] };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, message: 'The message is not valid JSON.', details: [] };
  }
  const type = typeof json === 'object' && json !== null ? (json as { type?: unknown }).type : undefined;
  const schema = typeof type === 'string' && Object.hasOwn(byType, type) ? byType[type as keyof typeof byType] : undefined;
  if (!schema) return { ok: false, message: 'type must be one of auth, subscribe, unsubscribe, ping.', details: [{ field: 'type', message: 'unknown type' }] };
  const r = schema.safeParse(json);
  if (!r.success) return { ok: false, message: 'The message does not match the protocol.', details: issues(r.error) };
  return { ok: true, value: r.data as ClientMessage };
}

/** SSE: the channel from query parameters (`filter` is a JSON string there). */
export function parseChannelQuery(query: Record<string, unknown>): Parsed<ChannelParams> {
  const rest: Record<string, unknown> = { ...query };
  const rawFilter = rest.filter;
  for (const k of ['ticket', 'lastEventId', 'filter']) delete rest[k];
  let parsedFilter: unknown;
  if (rawFilter !== undefined) {
    if (typeof rawFilter !== 'string')
      return { ok: false, message: 'filter must be one JSON object.', details: [{ field: 'filter', message: 'not a string' }] };
    try {
      parsedFilter = JSON.parse(rawFilter);
    } catch {
      return { ok: false, message: 'filter is not valid JSON.', details: [{ field: 'filter', message: 'invalid JSON' }] };
    }
  }
  const r = channelSchema.safeParse(parsedFilter === undefined ? rest : { ...rest, filter: parsedFilter });
  if (!r.success) return { ok: false, message: 'The channel parameters are not valid.', details: issues(r.error) };
  return { ok: true, value: r.data };
}
