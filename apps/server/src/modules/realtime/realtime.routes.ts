import websocket from '@fastify/websocket';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import type { MasterKey } from '../../config/index.js';
import { open, randomToken, seal, sha256Hex } from '../../platform/crypto/index.js';
import { type AppError, commonErrors } from '../../platform/errors.js';
import { type App, emptyBody, toAppError } from '../../platform/http/index.js';
import { accessErrors, isOrgActor } from '../access/index.js';
import { credentialOf } from '../identity/index.js';
import type { Credential, Principal } from './realtime.auth.js';
import type { Connection, Sink } from './realtime.connection.js';
import { realtimeErrors } from './realtime.errors.js';
import { sseError, wsError } from './realtime.frames.js';
import { type Hub, errorBody } from './realtime.hub.js';
import {
  type ChannelParams,
  MAX_MESSAGE_BYTES,
  MAX_QUEUED,
  MESSAGES_PER_SECOND,
  MESSAGE_BURST,
  parseChannelQuery,
  parseClientMessage,
} from './realtime.protocol.js';
import { type Exec, insertTicket, takeTicket } from './realtime.repo.js';

export interface RealtimeRouteSettings {
  authTimeoutMs: number;
  heartbeatMs: number;
}

const TICKET_TTL_SECONDS = 30;
const TICKET_AAD = 'infinity realtime ticket';
/** WebSocket close code of an error: 4000 + its HTTP status (4401 auth, 4503 slow consumer or full, …). */
const closeCode = (e: AppError) => 4000 + e.status;

/**
 * Realtime over HTTP: the WebSocket (`GET /api/v1/realtime`), server-sent events
 * (`GET /api/v1/events?channel=…`) and SSE tickets. The protocol is in docs/api.md ("Realtime").
 */
export function realtimeRoutes(hub: Hub, deps: { db: Exec; keys: MasterKey[]; settings: RealtimeRouteSettings }) {
  return async (app: App) => {
    await app.register(websocket, { options: { maxPayload: MAX_MESSAGE_BYTES } });
    // Open streams would hold the server open: close them before it closes.
    app.addHook('preClose', async () => hub.closeAll());
    // NB: an upgrade refused before the websocket plugin's own hooks ran (a bad credential, the
    // access guard runs first) leaves its socket open after the error response: close it.
    app.addHook('onResponse', async (request) => {
      if (request.headers.upgrade?.toLowerCase() === 'websocket') request.raw.socket?.destroy();
    });

    app.get(
      '/api/v1/realtime',
      {
        websocket: true,
        config: { access: { public: true, identify: true, perCredential: true } },
        schema: {
          operationId: 'connectRealtime',
          tags: ['realtime'],
          summary: 'Realtime WebSocket: authenticate (header or first message), subscribe to channels, receive events',
        },
      },
      (socket, request) => wsSession(hub, socket, request, deps.settings),
    );

    app.get('/api/v1/events', {
      config: { access: { public: true, identify: true, perCredential: true } },
      schema: {
        operationId: 'streamEvents',
        tags: ['realtime'],
        summary: 'Server-sent events of one channel (query parameters as the WebSocket subscribe message; filter as JSON; ?ticket= for EventSource)',
      },
      handler: (request, reply) => sseSession(hub, request, reply, deps),
    });

    app.post('/api/v1/realtime/tickets', {
      config: { access: { self: true } },
      schema: {
        operationId: 'createRealtimeTicket',
        tags: ['realtime'],
        summary: 'A single-use ticket (30 s) that authenticates one EventSource on /api/v1/events as the caller',
        body: emptyBody,
        response: { 201: z.object({ data: z.object({ ticket: z.string(), expiresAt: z.string() }) }) },
      },
      handler: async (request, reply) => {
        const actor = request.actor;
        const value = credentialOf(request);
        if (!actor || !isOrgActor(actor) || !value) throw accessErrors.AUTH_NO_ORGANIZATION();
        const credential: Credential = { value, orgId: orgHeader(request) };
        const ticket = `rtk_${randomToken(32)}`;
        const key = deps.keys[0]!;
        const sealed = seal(key.key, Buffer.from(JSON.stringify(credential)), TICKET_AAD);
        await insertTicket(deps.db, { hash: sha256Hex(ticket), credential: sealed, orgId: actor.orgId, ttlSeconds: TICKET_TTL_SECONDS });
        reply.code(201);
        return { data: { ticket, expiresAt: new Date(Date.now() + TICKET_TTL_SECONDS * 1000).toISOString() } };
      },
    });
  };
}

function orgHeader(request: FastifyRequest): string | undefined {
  const h = request.headers['x-org-id'];
  return typeof h === 'string' && h ? h : undefined;
}

function wsSession(hub: Hub, socket: WebSocket, request: FastifyRequest, s: RealtimeRouteSettings): void {
  let conn: Connection | undefined;
  // Pings not answered yet; a peer is cut off after two (one late timer cannot cut off a live peer).
  let unanswered = 0;
  const reply = (msg: Record<string, unknown>) => socket.send(JSON.stringify(msg));
  const sink: Sink = {
    kind: 'ws',
    write: (text) => socket.send(text),
    buffered: () => socket.bufferedAmount,
    close: (error) => {
      if (error) socket.send(wsError(undefined, errorBody(error)));
      socket.close(error ? closeCode(error) : 1000);
      // A peer that never completes the closing handshake (it does not read) is cut off.
      setTimeout(() => socket.terminate(), Math.max(1000, s.heartbeatMs)).unref();
    },
    beat: () => {
      if (unanswered >= 2) {
        socket.terminate();
        return false;
      }
      unanswered++;
      socket.ping();
      return true;
    },
  };
  socket.on('pong', () => (unanswered = 0));
  const refuse = (err: unknown) => {
    const e = toAppError(err);
    socket.send(wsError(undefined, errorBody(e)));
    socket.close(closeCode(e));
  };
  const authenticated = (p: Principal) => reply({ type: 'authenticated', expiresAt: p.expiresAt === null ? null : new Date(p.expiresAt).toISOString() });
  const start = async (credential: Credential) => {
    const p = await hub.authenticate(credential);
    if (socket.readyState !== socket.OPEN) return;
    if (hub.full()) throw realtimeErrors.REALTIME_CONNECTION_LIMIT();
    conn = hub.add(sink, p);
    authenticated(p);
  };

  let chain = Promise.resolve();
  const headerCredential = credentialOf(request);
  let authTimer: NodeJS.Timeout | undefined;
  if (headerCredential) chain = start({ value: headerCredential, orgId: orgHeader(request) }).catch(refuse);
  else {
    authTimer = setTimeout(() => {
      if (!conn) refuse(realtimeErrors.REALTIME_AUTH_TIMEOUT());
    }, s.authTimeoutMs);
    authTimer.unref();
  }

  const handle = async (text: string) => {
    const m = parseClientMessage(text);
    if (!m.ok) return socket.send(wsError(undefined, errorBody(realtimeErrors.REALTIME_MESSAGE_INVALID(m.message, m.details))));
    const msg = m.value;
    if (msg.type === 'auth') {
      const credential = { value: (msg.token ?? msg.apiKey)! };
      if (!conn) {
        clearTimeout(authTimer);
        return start(credential).catch(refuse);
      }
      const c = conn;
      return hub
        .authenticate(credential)
        .then((p) => {
          hub.renew(c, p);
          authenticated(p);
        })
        .catch((err: unknown) => socket.send(wsError(undefined, errorBody(toAppError(err)))));
    }
    if (msg.type === 'ping') return reply({ type: 'pong' });
    if (!conn) return socket.send(wsError(undefined, errorBody(commonErrors.UNAUTHENTICATED('Send {"type":"auth","token"|"apiKey":…} first.'))));
    if (msg.type === 'unsubscribe') {
      if (hub.unsubscribe(conn, msg.id)) return reply({ type: 'unsubscribed', id: msg.id });
      return socket.send(wsError(msg.id, errorBody(commonErrors.NOT_FOUND(`No subscription "${msg.id}" on this connection.`))));
    }
    const { id, lastEventId } = msg;
    const params = Object.fromEntries(Object.entries(msg).filter(([k]) => k !== 'type' && k !== 'id' && k !== 'lastEventId')) as ChannelParams;
    try {
      const sub = await hub.check(conn, id, params);
      const r = await hub.attach(sub, { hold: lastEventId !== undefined });
      reply({ type: 'subscribed', id, ...(r.presence ? { presence: r.presence } : {}) });
      if (lastEventId !== undefined) void hub.replay(sub, lastEventId);
    } catch (err) {
      socket.send(wsError(id, errorBody(toAppError(err))));
    }
  };

  // Messages are handled one at a time; a client may not outrun that (bounded queue and rate).
  let queued = 0;
  let tokens = MESSAGE_BURST;
  let refilledAt = Date.now();
  let limited = false;
  socket.on('message', (data, isBinary) => {
    if (limited) return;
    const now = Date.now();
    tokens = Math.min(MESSAGE_BURST, tokens + ((now - refilledAt) / 1000) * MESSAGES_PER_SECOND);
    refilledAt = now;
    if (tokens < 1 || queued >= MAX_QUEUED) {
      limited = true;
      return refuse(realtimeErrors.REALTIME_RATE_LIMITED());
    }
    tokens -= 1;
    queued++;
    const text = isBinary ? '' : Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8');
    chain = chain
      .then(() => handle(text))
      .catch((err: unknown) => socket.send(wsError(undefined, errorBody(toAppError(err)))))
      .finally(() => queued--);
  });
  socket.on('close', () => {
    clearTimeout(authTimer);
    if (conn) hub.remove(conn);
  });
  socket.on('error', () => socket.terminate());
}

async function sseSession(hub: Hub, request: FastifyRequest, reply: FastifyReply, deps: { db: Exec; keys: MasterKey[] }): Promise<FastifyReply> {
  const query = (request.query ?? {}) as Record<string, unknown>;
  const parsed = parseChannelQuery(query);
  if (!parsed.ok) throw commonErrors.VALIDATION_FAILED(parsed.message, parsed.details);
  const principal = await hub.authenticate(await sseCredential(request, query.ticket, deps));
  if (hub.full()) throw realtimeErrors.REALTIME_CONNECTION_LIMIT();
  const res = reply.raw;
  const sink: Sink = {
    kind: 'sse',
    write: (text) => void res.write(text),
    buffered: () => res.writableLength,
    close: (error) => {
      if (error) res.write(sseError(errorBody(error)));
      res.end();
      setTimeout(() => res.destroy(), 1000).unref();
    },
    beat: () => {
      res.write(': ping\n\n');
      return true;
    },
  };
  const conn = hub.add(sink, principal);
  let sub;
  try {
    sub = await hub.check(conn, 'events', parsed.value);
  } catch (err) {
    hub.remove(conn);
    throw err;
  }
  const header = request.headers['last-event-id'];
  const lastEventId =
    typeof header === 'string' && header ? header : typeof query.lastEventId === 'string' && query.lastEventId ? query.lastEventId : undefined;
  reply.hijack();
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': request.id,
  });
  res.on('close', () => hub.remove(conn));
  const r = await hub.attach(sub, { hold: lastEventId !== undefined });
  res.write(`event: subscribed\ndata: ${JSON.stringify({ channel: parsed.value.channel, ...(r.presence ? { presence: r.presence } : {}) })}\n\n`);
  if (lastEventId !== undefined) void hub.replay(sub, lastEventId);
  return reply;
}

async function sseCredential(request: FastifyRequest, ticket: unknown, deps: { db: Exec; keys: MasterKey[] }): Promise<Credential> {
  if (typeof ticket === 'string' && ticket) {
    const row = await takeTicket(deps.db, sha256Hex(ticket));
    if (!row) throw realtimeErrors.REALTIME_TICKET_INVALID();
    for (const k of deps.keys) {
      try {
        return JSON.parse(open(k.key, row.credential, TICKET_AAD).toString('utf8')) as Credential;
      } catch {
        // sealed with another key: try the next
      }
    }
    throw realtimeErrors.REALTIME_TICKET_INVALID();
  }
  const value = credentialOf(request);
  if (!value) throw commonErrors.UNAUTHENTICATED('Send "Authorization: Bearer <token or key>", or ?ticket= from POST /api/v1/realtime/tickets (EventSource).');
  return { value, orgId: orgHeader(request) };
}
