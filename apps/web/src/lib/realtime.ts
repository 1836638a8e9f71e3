/**
 * Realtime in React: the tab's one RealtimeClient (realtime-client.ts) bound to the session's
 * access token, and the hooks screens use to listen instead of polling.
 */
import { type QueryKey, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { currentToken, onTokenChange, refreshSession } from './api';
import { RealtimeClient, type RealtimeEvent, type RealtimeSpec, type RealtimeStatus, type SocketLike, specKey } from './realtime-client';

export type { RealtimeEvent, RealtimeSpec, RealtimeStatus } from './realtime-client';

let shared: RealtimeClient | null = null;

/** The tab's realtime client (created on first use; it connects when something subscribes). */
export function realtime(): RealtimeClient {
  if (!shared) {
    const client = new RealtimeClient({
      url: () => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/realtime`,
      createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
      token: currentToken,
      refresh: refreshSession,
    });
    onTokenChange(() => client.tokenChanged());
    shared = client;
  }
  return shared;
}

/** For tests: use this client instead of the browser one. */
export function setRealtimeForTests(client: RealtimeClient | null): void {
  shared = client;
}

/** Connected, connecting or reconnecting: for the live indicator. */
export function useRealtimeStatus(): RealtimeStatus {
  return useSyncExternalStore(
    (fn) => realtime().onStatus(fn),
    () => realtime().status,
  );
}

export interface Live {
  /**
   * The subscription is confirmed (load now: nothing after this is missed), or it cannot be
   * (no connection, refused): load anyway, the screen is then as fresh as its last load.
   */
  ready: boolean;
  /** Why the server refused the subscription. */
  error: { code: string; message: string } | null;
}

/**
 * Follows a channel while the component is mounted (null: nothing). `onEvent` may change on every
 * render; only a different spec subscribes again. After a reconnect the queries under `resync`
 * are invalidated (and `onResync` called) once, since events may have been missed while the
 * socket was down.
 */
export function useRealtime(spec: RealtimeSpec | null, onEvent: (e: RealtimeEvent) => void, opts: { resync?: QueryKey[]; onResync?: () => void } = {}): Live {
  const client = useQueryClient();
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const resync = useRef(opts);
  resync.current = opts;
  const key = spec ? specKey(spec) : null;
  const status = useRealtimeStatus();
  const [state, setState] = useState<{ key: string | null; acked: boolean; error: Live['error'] }>({ key, acked: false, error: null });

  useEffect(() => {
    if (!key) return;
    setState({ key, acked: false, error: null });
    return realtime().subscribe(JSON.parse(key) as RealtimeSpec, {
      onEvent: (e) => handler.current(e),
      onSubscribed: () => setState({ key, acked: true, error: null }),
      onError: (error) => setState({ key, acked: false, error }),
      onResync: () => {
        for (const k of resync.current?.resync ?? []) void client.invalidateQueries({ queryKey: k });
        resync.current?.onResync?.();
      },
    });
  }, [key, client]);

  const mine = state.key === key;
  const acked = mine && state.acked;
  const error = mine ? state.error : null;
  return { ready: !key || acked || error !== null || status === 'reconnecting', error };
}
