// @vitest-environment jsdom
import { QueryClient, QueryClientProvider, useQuery } from '@tanstack/react-query';
import { act, cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { RealtimeClient, type SocketLike } from './realtime-client';
import { type RealtimeEvent, setRealtimeForTests, useRealtime } from './realtime';

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  send(data: string) {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close() {
    this.readyState = 3;
    this.onclose?.({});
  }
  receive(msg: unknown) {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
}

/** A screen that loads a count once the subscription is confirmed and counts up from events. */
function Counter({ loads }: { loads: { n: number } }) {
  const events: RealtimeEvent[] = [];
  const live = useRealtime({ channel: 'notifications' }, (e) => events.push(e), { resync: [['count']] });
  const q = useQuery({
    queryKey: ['count'],
    enabled: live.ready,
    queryFn: () => {
      loads.n++;
      return Promise.resolve(loads.n * 10);
    },
  });
  return <p data-testid="out">{q.data === undefined ? 'waiting' : `loaded ${q.data}`}</p>;
}

afterEach(() => {
  cleanup();
  setRealtimeForTests(null);
});

describe('useRealtime', () => {
  it('loads only once the subscription is confirmed (nothing missed in between) and reloads once after a reconnect', async () => {
    const sockets: FakeSocket[] = [];
    const timers: (() => void)[] = [];
    setRealtimeForTests(
      new RealtimeClient({
        url: () => 'ws://x',
        createSocket: () => {
          const s = new FakeSocket();
          sockets.push(s);
          return s;
        },
        token: () => 'tok',
        refresh: () => Promise.resolve(true),
        // The last timer set is the one a test fires (after a drop: the reconnect).
        timers: { set: (fn) => timers.push(fn), clear: () => undefined },
        random: () => 0.5,
      }),
    );
    const loads = { n: 0 };
    render(
      <QueryClientProvider client={new QueryClient()}>
        <Counter loads={loads} />
      </QueryClientProvider>,
    );
    expect(screen.getByTestId('out').textContent).toBe('waiting');
    const s = sockets[0]!;
    act(() => {
      s.readyState = 1;
      s.onopen?.({});
      s.receive({ type: 'authenticated', expiresAt: null });
    });
    expect(loads.n).toBe(0);
    act(() => s.receive({ type: 'subscribed', id: s.sent[1]!.id }));
    await screen.findByText('loaded 10');

    // The socket drops; the query keeps its data (no reload while down)…
    act(() => s.close());
    expect(loads.n).toBe(1);
    // …and once the subscription is confirmed on the new socket, it is loaded again, once.
    act(() => timers.pop()!());
    await act(async () => Promise.resolve());
    const s2 = sockets[1]!;
    act(() => {
      s2.readyState = 1;
      s2.onopen?.({});
      s2.receive({ type: 'subscribed', id: s2.sent[1]!.id });
    });
    await screen.findByText('loaded 20');
    expect(loads.n).toBe(2);
  });
});
