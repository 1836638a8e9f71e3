/**
 * The browser's end of the realtime protocol (SPEC §6, `GET /api/v1/realtime`): one WebSocket for
 * the whole tab, opened when the first subscription is made, authenticated by a first message with
 * the current access token (sent again whenever the token is refreshed), and shared by every screen
 * through ref-counted subscriptions: two components following the same channel share one
 * subscription on the server.
 *
 *   subscribe(spec) ──► entry (key = the spec) ──► {"type":"subscribe","id":"s1",…}
 *        ▲                     │ listeners            ◄── {"type":"subscribed","id":"s1"}
 *        └── unsubscribe       └── onEvent             ◄── {"type":"event","id":"s1",…}
 *
 * When the socket drops it reconnects with exponential backoff and jitter, subscribes again, and
 * tells each subscription once (`onResync`) that events may have been missed meanwhile, so the
 * screen reloads what it shows. No React here: the hooks are in realtime.ts; time and the socket
 * are injected so the tests drive reconnects without waiting.
 */

export type RealtimeSpec =
  | { channel: 'records'; model: string; filter?: unknown }
  | { channel: 'execution'; executionId: string }
  | { channel: 'executions'; flowId?: string }
  | { channel: 'flow'; flowId: string }
  | { channel: 'notifications' }
  | { channel: 'stats' }
  | { channel: 'agents'; agentId?: string };

/** One event as a subscriber receives it: the domain event's type and payload. */
export interface RealtimeEvent<T = Record<string, unknown>> {
  eventId: string;
  event: string;
  data: T;
  at: string;
  /** On a filtered records subscription: the update made the record enter or leave the filter. */
  match?: 'entered' | 'left';
}

export type RealtimeStatus = 'idle' | 'connecting' | 'live' | 'reconnecting';

export interface Subscriber {
  onEvent: (e: RealtimeEvent) => void;
  /** The server confirmed the subscription (again, after a reconnect). */
  onSubscribed?: () => void;
  /** The socket was down: events may have been missed; reload what is shown (once per reconnect). */
  onResync?: () => void;
  /** The server refused the subscription (a bad filter, a channel the role may not read). */
  onError?: (error: { code: string; message: string }) => void;
}

/** What the client needs of a WebSocket (the browser's, or a fake in tests). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export interface RealtimeOptions {
  url: () => string;
  createSocket: (url: string) => SocketLike;
  /** The current access token; null when signed out (then nothing connects). */
  token: () => string | null;
  /** Trades the refresh cookie for a new token (which reaches the client through tokenChanged); false when signed out. */
  refresh: () => Promise<boolean>;
  timers?: Timers;
  now?: () => number;
  random?: () => number;
}

const OPEN = 1;
/** Backoff of the n-th reconnect: 0.5 s doubling to 30 s, each with ±50 % jitter so tabs do not reconnect in lockstep. */
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/** A ping every 25 s; a socket that answers nothing within 10 s is dead (a laptop waking up) and is replaced. */
const PING_EVERY_MS = 25_000;
const PONG_WITHIN_MS = 10_000;
/** The socket stays open this long after the last subscription ends (navigating between screens). */
const LINGER_MS = 10_000;
/** The token is refreshed this long before it expires, so a listening tab is never disconnected for it. */
const REFRESH_BEFORE_MS = 60_000;
/** Event ids remembered per subscription, to drop a duplicate delivery. */
const SEEN_LIMIT = 256;

interface Entry {
  id: string;
  spec: RealtimeSpec;
  subscribers: Set<Subscriber>;
  acked: boolean;
  /** Set by a reconnect: the next acknowledgement also calls onResync. */
  resync: boolean;
  seen: string[];
}

/** A spec as a stable key (sorted object keys), so equal specs share one subscription. */
export function specKey(spec: RealtimeSpec): string {
  const norm = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(norm)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
              .map((k) => [k, norm((v as Record<string, unknown>)[k])]),
          )
        : v;
  return JSON.stringify(norm(spec));
}

/** Seconds-since-epoch expiry of a JWT, or null when it is not one (an opaque token). */
export function tokenExpiry(token: string): number | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const json = atob(
      part
        .replace(/-/g, '+')
        .replace(/_/g, '/')
        .padEnd(Math.ceil(part.length / 4) * 4, '='),
    );
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp : null;
  } catch {
    return null;
  }
}

export class RealtimeClient {
  private socket: SocketLike | null = null;
  /** The socket is open and the auth message went out: messages may follow it. */
  private opened = false;
  private readonly entries = new Map<string, Entry>();
  private readonly byId = new Map<string, Entry>();
  private nextId = 1;
  private attempt = 0;
  private current: RealtimeStatus = 'idle';
  private readonly statusListeners = new Set<(s: RealtimeStatus) => void>();
  private reconnectTimer: unknown = null;
  private pingTimer: unknown = null;
  private pongTimer: unknown = null;
  private lingerTimer: unknown = null;
  private refreshTimer: unknown = null;
  /** The last connection-level error said the credential is no longer good: refresh before reconnecting. */
  private authFailed = false;
  private readonly timers: Timers;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly o: RealtimeOptions) {
    this.timers = o.timers ?? { set: (fn, ms) => setTimeout(fn, ms), clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>) };
    this.now = o.now ?? Date.now;
    this.random = o.random ?? Math.random;
  }

  get status(): RealtimeStatus {
    return this.current;
  }

  onStatus(fn: (s: RealtimeStatus) => void): () => void {
    this.statusListeners.add(fn);
    return () => this.statusListeners.delete(fn);
  }

  /** Follows a channel; the returned function stops (the last subscriber of a spec unsubscribes on the server). */
  subscribe(spec: RealtimeSpec, subscriber: Subscriber): () => void {
    const key = specKey(spec);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { id: `s${this.nextId++}`, spec, subscribers: new Set(), acked: false, resync: false, seen: [] };
      this.entries.set(key, entry);
      this.byId.set(entry.id, entry);
      if (this.isOpen()) this.sendSubscribe(entry);
    } else if (entry.acked) subscriber.onSubscribed?.();
    entry.subscribers.add(subscriber);
    this.clearTimer('lingerTimer');
    this.ensureConnected();
    const e = entry;
    return () => {
      e.subscribers.delete(subscriber);
      if (e.subscribers.size || this.entries.get(key) !== e) return;
      this.entries.delete(key);
      this.byId.delete(e.id);
      if (this.isOpen()) this.send({ type: 'unsubscribe', id: e.id });
      if (!this.entries.size) this.lingerTimer = this.timers.set(() => this.close(), LINGER_MS);
    };
  }

  /** The access token changed: authenticate the open socket again with it, or connect if signed in now. */
  tokenChanged(): void {
    const token = this.o.token();
    if (!token) return this.close();
    if (this.isOpen()) {
      this.send({ type: 'auth', token });
      this.scheduleRefresh(token);
    } else this.ensureConnected();
  }

  /**
   * Closes the socket (sign-out, or before switching organization: the next token opens a new one
   * and the subscriptions still held resync once they are confirmed again).
   */
  close(): void {
    for (const t of ['reconnectTimer', 'pingTimer', 'pongTimer', 'lingerTimer', 'refreshTimer'] as const) this.clearTimer(t);
    const s = this.socket;
    this.socket = null;
    this.opened = false;
    if (s) {
      s.onclose = s.onmessage = s.onerror = s.onopen = null;
      s.close(1000, 'closed by the client');
    }
    for (const e of this.entries.values()) {
      if (e.acked) e.resync = true;
      e.acked = false;
    }
    this.attempt = 0;
    this.setStatus('idle');
  }

  private isOpen(): boolean {
    return this.opened && this.socket?.readyState === OPEN;
  }

  private ensureConnected(): void {
    if (this.socket || this.reconnectTimer !== null || !this.entries.size) return;
    const token = this.o.token();
    if (!token) return;
    this.open(token);
  }

  private open(token: string): void {
    this.setStatus(this.attempt ? 'reconnecting' : 'connecting');
    const s = this.o.createSocket(this.o.url());
    this.socket = s;
    s.onopen = () => {
      this.opened = true;
      // NB: the server handles one connection's messages in order: the subscriptions sent right
      // after the auth message are checked once it is authenticated. Live once it says so.
      this.send({ type: 'auth', token: this.o.token() ?? token });
      for (const e of this.entries.values()) this.sendSubscribe(e);
      this.scheduleRefresh(this.o.token() ?? token);
      this.schedulePing();
    };
    s.onmessage = (ev) => this.receive(ev.data);
    // An error is always followed by a close: the close decides what happens next.
    s.onerror = () => undefined;
    s.onclose = () => this.dropped();
  }

  private dropped(): void {
    this.socket = null;
    this.opened = false;
    for (const t of ['pingTimer', 'pongTimer', 'refreshTimer'] as const) this.clearTimer(t);
    for (const e of this.entries.values()) {
      if (e.acked) e.resync = true;
      e.acked = false;
    }
    if (!this.entries.size) return this.setStatus('idle');
    this.setStatus('reconnecting');
    const ms = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** this.attempt) * (0.5 + this.random());
    this.attempt++;
    this.reconnectTimer = this.timers.set(() => {
      this.reconnectTimer = null;
      void this.reconnect();
    }, ms);
  }

  private async reconnect(): Promise<void> {
    let token = this.o.token();
    const exp = token ? tokenExpiry(token) : null;
    if (!token || this.authFailed || (exp !== null && exp * 1000 - this.now() < REFRESH_BEFORE_MS)) {
      this.authFailed = false;
      // Refused: signed out (the app's sign-out handler closes this client); stay idle.
      if (!(await this.o.refresh())) return this.setStatus('idle');
      token = this.o.token();
    }
    if (token && !this.socket && this.entries.size) this.open(token);
  }

  private receive(raw: unknown): void {
    let msg: {
      type?: string;
      id?: string;
      eventId?: string;
      event?: string;
      match?: 'entered' | 'left';
      data?: unknown;
      at?: string;
      error?: { code?: string; message?: string };
    };
    try {
      msg = JSON.parse(String(raw)) as typeof msg;
    } catch {
      return;
    }
    // Anything from the server proves the socket alive; an answer other than an error also proves it usable.
    this.clearTimer('pongTimer');
    if (msg.type !== 'error') this.attempt = 0;
    const entry = msg.id ? this.byId.get(msg.id) : undefined;
    switch (msg.type) {
      case 'authenticated':
        return this.setStatus('live');
      case 'subscribed': {
        this.setStatus('live');
        if (!entry) return;
        entry.acked = true;
        const resync = entry.resync;
        entry.resync = false;
        for (const s of [...entry.subscribers]) {
          s.onSubscribed?.();
          if (resync) s.onResync?.();
        }
        return;
      }
      case 'event': {
        if (!entry || !msg.event) return;
        const eventId = msg.eventId ?? '';
        if (eventId) {
          if (entry.seen.includes(eventId)) return;
          entry.seen.push(eventId);
          if (entry.seen.length > SEEN_LIMIT) entry.seen.shift();
        }
        const e: RealtimeEvent = {
          eventId,
          event: msg.event,
          data: (msg.data ?? {}) as Record<string, unknown>,
          at: msg.at ?? '',
          ...(msg.match === 'entered' || msg.match === 'left' ? { match: msg.match } : {}),
        };
        for (const s of [...entry.subscribers]) s.onEvent(e);
        return;
      }
      case 'error': {
        const error = { code: msg.error?.code ?? 'REALTIME_ERROR', message: msg.error?.message ?? 'The realtime server refused.' };
        if (entry) for (const s of [...entry.subscribers]) s.onError?.(error);
        else if (/AUTH|TOKEN|UNAUTHORIZED|EXPIRED|REVOKED/.test(error.code)) this.authFailed = true;
        return;
      }
      default:
        return;
    }
  }

  private sendSubscribe(e: Entry): void {
    this.send({ type: 'subscribe', id: e.id, ...e.spec });
  }

  private send(msg: Record<string, unknown>): void {
    if (this.socket?.readyState === OPEN) this.socket.send(JSON.stringify(msg));
  }

  private schedulePing(): void {
    this.clearTimer('pingTimer');
    this.pingTimer = this.timers.set(() => {
      this.send({ type: 'ping' });
      this.pongTimer = this.timers.set(() => this.socket?.close(4000, 'no answer to ping'), PONG_WITHIN_MS);
      this.schedulePing();
    }, PING_EVERY_MS);
  }

  private scheduleRefresh(token: string): void {
    this.clearTimer('refreshTimer');
    const exp = tokenExpiry(token);
    if (exp === null) return;
    const ms = Math.max(5_000, exp * 1000 - this.now() - REFRESH_BEFORE_MS);
    // The refreshed token comes back through tokenChanged (which authenticates again).
    this.refreshTimer = this.timers.set(() => void this.o.refresh(), ms);
  }

  private clearTimer(name: 'reconnectTimer' | 'pingTimer' | 'pongTimer' | 'lingerTimer' | 'refreshTimer'): void {
    if (this[name] !== null) this.timers.clear(this[name]);
    this[name] = null;
  }

  private setStatus(s: RealtimeStatus): void {
    if (s === this.current) return;
    this.current = s;
    for (const fn of this.statusListeners) fn(s);
  }
}
