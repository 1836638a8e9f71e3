import { defineErrors } from '../../platform/errors.js';

/** Realtime's codes: sent in `{"type":"error"}` messages and SSE `error` events, or as HTTP errors on the upgrade and the ticket route. */
export const realtimeErrors = defineErrors({
  REALTIME_AUTH_TIMEOUT: {
    status: 401,
    description:
      'The WebSocket sent no credential on the upgrade and no {"type":"auth"} message within 5 seconds (INFINITY_REALTIME_AUTH_TIMEOUT); it is closed.',
  },
  REALTIME_TOKEN_EXPIRED: {
    status: 401,
    description:
      'The access token of a realtime connection expired and no {"type":"auth"} message renewed it; the connection is closed. Reconnect with a fresh token.',
  },
  REALTIME_ACCESS_REVOKED: {
    status: 401,
    description: 'The connection’s API key was revoked, or its user was removed from the organization; the connection is closed.',
  },
  REALTIME_MESSAGE_INVALID: {
    status: 400,
    description: 'A realtime client message is not valid JSON, does not match the protocol, or is larger than 64 KB; details lists the problems.',
  },
  REALTIME_RATE_LIMITED: {
    status: 429,
    description:
      'A WebSocket client sent messages faster than the server takes them (a burst of 200, then 50 a second, at most 200 waiting); the connection is closed (4429).',
  },
  REALTIME_SUBSCRIPTION_LIMIT: { status: 429, description: 'A realtime connection may hold at most 100 subscriptions; unsubscribe some first.' },
  REALTIME_SUBSCRIPTION_EXISTS: {
    status: 409,
    description: 'This connection already has a subscription with this id; unsubscribe it first or use another id.',
  },
  REALTIME_CONNECTION_LIMIT: {
    status: 503,
    description: 'This server process holds INFINITY_REALTIME_MAX_CONNECTIONS realtime connections already; retry later or on another process.',
  },
  REALTIME_TICKET_INVALID: {
    status: 401,
    description: 'The SSE ticket is unknown, used already or older than 30 seconds; get a new one with POST /api/v1/realtime/tickets.',
  },
  SLOW_CONSUMER: {
    status: 503,
    description:
      'The client did not read its realtime messages fast enough (more than INFINITY_REALTIME_SEND_BUFFER bytes waited); the connection is closed. Reconnect (SSE: with Last-Event-ID).',
  },
  REPLAY_UNAVAILABLE: {
    status: 409,
    description:
      'The events since Last-Event-ID cannot be replayed (older than the replay window, more than 1,000 of them, an unknown id, or a channel without replay such as stats): reload the data, then follow the stream.',
  },
});
