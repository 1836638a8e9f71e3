import { describe, expect, it } from 'vitest';
import { RealtimeClient, type SocketLike, type Timers, specKey, tokenExpiry } from './realtime-client';

/** A socket the test opens, feeds and closes by hand; it records what the client sent. */
class FakeSocket implements SocketLike {
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  closedWith: number | null = null;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(readonly url: string) {}
  send(data: string) {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(code = 1000) {
    this.closedWith = code;
    this.readyState = 3;
    this.onclose?.({});
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(msg: unknown) {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
  /** The server (or the network) went away. */
  drop() {
    this.readyState = 3;
    this.onclose?.({});
  }
  types() {
    return this.sent.map((m) => m.type);
  }
}

/** Timers the test fires by hand: nothing waits for real time. */
class ManualTimers implements Timers {
  private n = 0;
  pending = new Map<number, { fn: () => void; ms: number }>();
  set(fn: () => void, ms: number) {
    this.pending.set(++this.n, { fn, ms });
    return this.n;
  }
  clear(h: unknown) {
    this.pending.delete(h as number);
  }
  /** Runs the timers due within `ms` (ordered by delay), as if that much time passed. */
  fire(pred: (ms: number) => boolean) {
    const due = [...this.pending].filter(([, t]) => pred(t.ms)).sort((a, b) => a[1].ms - b[1].ms);
    for (const [h, t] of due) {
      this.pending.delete(h);
      t.fn();
    }
    return due.map(([, t]) => t.ms);
  }
  delays() {
    return [...this.pending.values()].map((t) => t.ms);
  }
}

/** Lets pending promise callbacks run (the refresh before a reconnect is asynchronous). */
const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

const jwt = (exp: number) => `h.${btoa(JSON.stringify({ sub: 'u', exp })).replace(/=+$/, '')}.s`;

function setup(opts: { token?: string | null; refresh?: () => Promise<boolean>; now?: number } = {}) {
  const sockets: FakeSocket[] = [];
  const timers = new ManualTimers();
  let token: string | null = opts.token === undefined ? 'tok-1' : opts.token;
  const refreshes: number[] = [];
  const client = new RealtimeClient({
    url: () => 'ws://test/api/v1/realtime',
    createSocket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    token: () => token,
    refresh: async () => {
      refreshes.push(1);
      return opts.refresh ? opts.refresh() : true;
    },
    timers,
    now: () => opts.now ?? 0,
    random: () => 0.5,
  });
  return {
    client,
    sockets,
    timers,
    refreshes,
    last: () => sockets.at(-1)!,
    setToken: (t: string | null) => {
      token = t;
      client.tokenChanged();
    },
  };
}

describe('realtime client', () => {
  it('connects lazily on the first subscription, authenticates first, then subscribes', () => {
    const t = setup();
    expect(t.sockets).toHaveLength(0);
    const events: string[] = [];
    t.client.subscribe({ channel: 'records', model: 'orders' }, { onEvent: (e) => events.push(`${e.event}:${String(e.data.recordId)}`) });
    expect(t.sockets).toHaveLength(1);
    expect(t.client.status).toBe('connecting');
    t.last().open();
    expect(t.last().sent).toEqual([
      { type: 'auth', token: 'tok-1' },
      { type: 'subscribe', id: 's1', channel: 'records', model: 'orders' },
    ]);
    expect(t.client.status).toBe('connecting');
    t.last().receive({ type: 'authenticated', expiresAt: null });
    expect(t.client.status).toBe('live');
    t.last().receive({ type: 'subscribed', id: 's1' });
    t.last().receive({ type: 'event', id: 's1', eventId: 'e1', event: 'record.created', data: { recordId: 'r1' }, at: '2026-01-01T00:00:00Z' });
    // A duplicate delivery of the same event is dropped; an event of an unknown subscription is ignored.
    t.last().receive({ type: 'event', id: 's1', eventId: 'e1', event: 'record.created', data: { recordId: 'r1' }, at: '2026-01-01T00:00:00Z' });
    t.last().receive({ type: 'event', id: 's9', eventId: 'e2', event: 'record.created', data: { recordId: 'r2' }, at: '' });
    expect(events).toEqual(['record.created:r1']);
    // An update that made the record leave the subscription's filter says so.
    const matches: unknown[] = [];
    t.client.subscribe({ channel: 'records', model: 'orders' }, { onEvent: (e) => matches.push(e.match) });
    t.last().receive({ type: 'event', id: 's1', eventId: 'e3', event: 'record.updated', match: 'left', data: { recordId: 'r1' }, at: '' });
    expect(matches).toEqual(['left']);
  });

  it('shares one server subscription between equal specs and unsubscribes when the last one leaves', () => {
    const t = setup();
    const a: string[] = [];
    const b: string[] = [];
    const offA = t.client.subscribe({ channel: 'executions', flowId: 'f1' }, { onEvent: (e) => a.push(e.eventId) });
    t.last().open();
    t.last().receive({ type: 'subscribed', id: 's1' });
    let bSubscribed = false;
    const offB = t.client.subscribe({ flowId: 'f1', channel: 'executions' }, { onEvent: (e) => b.push(e.eventId), onSubscribed: () => (bSubscribed = true) });
    expect(bSubscribed).toBe(true);
    expect(t.last().sent.filter((m) => m.type === 'subscribe')).toHaveLength(1);
    t.last().receive({ type: 'event', id: 's1', eventId: 'e1', event: 'execution.queued', data: {}, at: '' });
    expect([a, b]).toEqual([['e1'], ['e1']]);
    offA();
    expect(t.last().types()).not.toContain('unsubscribe');
    offB();
    expect(t.last().sent.at(-1)).toEqual({ type: 'unsubscribe', id: 's1' });
    // The socket lingers a moment (navigating between screens), then closes.
    expect(t.last().closedWith).toBeNull();
    t.timers.fire((ms) => ms === 10_000);
    expect(t.last().closedWith).toBe(1000);
    expect(t.client.status).toBe('idle');
  });

  it('reconnects with growing, jittered backoff, subscribes again and asks each subscription to resync once', async () => {
    const t = setup();
    let resyncs = 0;
    let acks = 0;
    t.client.subscribe({ channel: 'notifications' }, { onEvent: () => undefined, onResync: () => resyncs++, onSubscribed: () => acks++ });
    t.client.subscribe({ channel: 'stats' }, { onEvent: () => undefined });
    t.last().open();
    t.last().receive({ type: 'subscribed', id: 's1' });
    t.last().receive({ type: 'subscribed', id: 's2' });
    expect([acks, resyncs]).toEqual([1, 0]);

    t.last().drop();
    expect(t.client.status).toBe('reconnecting');
    // random() = 0.5: exactly the base delay; each failed attempt doubles it.
    expect(t.timers.delays()).toEqual([500]);
    t.timers.fire((ms) => ms === 500);
    await settle();
    expect(t.sockets).toHaveLength(2);
    t.last().drop();
    expect(t.timers.delays()).toEqual([1000]);
    t.timers.fire((ms) => ms === 1000);
    await settle();
    expect(t.sockets).toHaveLength(3);
    t.last().open();
    expect(t.last().sent).toEqual([
      { type: 'auth', token: 'tok-1' },
      { type: 'subscribe', id: 's1', channel: 'notifications' },
      { type: 'subscribe', id: 's2', channel: 'stats' },
    ]);
    t.last().receive({ type: 'subscribed', id: 's1' });
    expect([acks, resyncs]).toEqual([2, 1]);
    // After a confirmed subscription the backoff starts again from the base.
    t.last().drop();
    expect(t.timers.delays()).toEqual([500]);
  });

  it('sends auth again with a refreshed token, and refreshes before the token expires', () => {
    const now = 1_000_000_000_000;
    const t = setup({ token: jwt(now / 1000 + 300), now });
    t.client.subscribe({ channel: 'stats' }, { onEvent: () => undefined });
    t.last().open();
    // A refresh is planned a minute before expiry: 300 s - 60 s.
    expect(t.timers.delays()).toContain(240_000);
    t.timers.fire((ms) => ms === 240_000);
    expect(t.refreshes).toHaveLength(1);
    // The app's refresh changes the token; the open socket is authenticated again with it.
    t.setToken('tok-2');
    expect(t.last().sent.at(-1)).toEqual({ type: 'auth', token: 'tok-2' });
    expect(t.sockets).toHaveLength(1);
  });

  it('refreshes the token before reconnecting when the server said the credential expired', async () => {
    const t = setup();
    t.client.subscribe({ channel: 'stats' }, { onEvent: () => undefined });
    t.last().open();
    t.last().receive({ type: 'error', error: { code: 'AUTH_TOKEN_EXPIRED', message: 'expired' } });
    t.last().drop();
    t.timers.fire(() => true);
    await settle();
    expect(t.refreshes).toHaveLength(1);
    expect(t.sockets).toHaveLength(2);
  });

  it('stays disconnected when the refresh says the session is over', async () => {
    const t = setup({ refresh: async () => false, token: null });
    t.client.subscribe({ channel: 'stats' }, { onEvent: () => undefined });
    // No token: nothing connects until there is one.
    expect(t.sockets).toHaveLength(0);
    t.setToken('tok-1');
    expect(t.sockets).toHaveLength(1);
    t.last().open();
    t.last().receive({ type: 'error', error: { code: 'AUTH_REQUIRED', message: 'no' } });
    t.last().drop();
    t.timers.fire(() => true);
    await settle();
    expect(t.sockets).toHaveLength(1);
    expect(t.client.status).toBe('idle');
  });

  it('reports a refused subscription to its subscriber only', () => {
    const t = setup();
    const errors: string[] = [];
    const other: string[] = [];
    t.client.subscribe(
      { channel: 'records', model: 'orders', filter: { 'company.name': { eq: 'x' } } },
      { onEvent: () => undefined, onError: (e) => errors.push(e.code) },
    );
    t.client.subscribe({ channel: 'stats' }, { onEvent: () => undefined, onError: (e) => other.push(e.code) });
    t.last().open();
    t.last().receive({ type: 'error', id: 's1', error: { code: 'REALTIME_FILTER_UNSUPPORTED', message: 'no related filters' } });
    expect([errors, other]).toEqual([['REALTIME_FILTER_UNSUPPORTED'], []]);
  });

  it('replaces a socket that does not answer a ping', () => {
    const t = setup();
    t.client.subscribe({ channel: 'stats' }, { onEvent: () => undefined });
    t.last().open();
    t.timers.fire((ms) => ms === 25_000);
    expect(t.last().sent.at(-1)).toEqual({ type: 'ping' });
    // A pong in time keeps it.
    t.last().receive({ type: 'pong' });
    t.timers.fire((ms) => ms === 10_000);
    expect(t.last().closedWith).toBeNull();
    // The next ping goes unanswered: the socket is closed and a reconnect is planned.
    t.timers.fire((ms) => ms === 25_000);
    t.timers.fire((ms) => ms === 10_000);
    expect(t.last().closedWith).toBe(4000);
    expect(t.client.status).toBe('reconnecting');
  });

  it('closes on sign-out, and starts over when closed before another organization’s token', () => {
    const t = setup();
    let resyncs = 0;
    t.client.subscribe({ channel: 'notifications' }, { onEvent: () => undefined, onResync: () => resyncs++ });
    t.last().open();
    t.last().receive({ type: 'subscribed', id: 's1' });
    t.client.close();
    expect(t.sockets[0]!.closedWith).toBe(1000);
    t.setToken('tok-org-2');
    expect(t.sockets).toHaveLength(2);
    t.last().open();
    expect(t.last().sent[0]).toEqual({ type: 'auth', token: 'tok-org-2' });
    t.last().receive({ type: 'subscribed', id: 's1' });
    expect(resyncs).toBe(1);
    t.setToken(null);
    expect(t.last().closedWith).toBe(1000);
    expect(t.client.status).toBe('idle');
  });

  it('keys specs independently of property order and reads a JWT expiry', () => {
    expect(specKey({ channel: 'records', model: 'a', filter: { b: 1, a: 2 } })).toBe(specKey({ filter: { a: 2, b: 1 }, model: 'a', channel: 'records' }));
    expect(tokenExpiry(jwt(42))).toBe(42);
    expect(tokenExpiry('opaque')).toBeNull();
  });
});
