import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, api } from '../../../lib/api';
import { useRealtime, useRealtimeStatus } from '../../../lib/realtime';
import { useToast } from '../../../lib/toast';
import { applyRunEvent, isFinishEvent, mergeSnapshot } from '../live';
import { type Execution, FINISHED } from './panels';
import type { Graph } from './types';

/**
 * The run the editor follows, over its realtime `execution` channel: node states and log lines
 * arrive as events. The server is asked once when the subscription is confirmed (what happened
 * before it), once at the end (the full trace: every node's input and output), and again only
 * after the live connection was down.
 */
export function useFollowRun(graph: Graph) {
  const client = useQueryClient();
  const toast = useToast();
  const [execution, setExecution] = useState<Execution | null>(null);
  const [following, setFollowing] = useState<string | null>(null);
  // The graph as it is now, read when an answer or an event arrives.
  const shape = useRef(graph);
  shape.current = graph;
  const nameOf = useCallback((nodeId: string) => shape.current.nodes.find((n) => n.id === nodeId)?.name ?? nodeId, []);

  const finish = useCallback(
    async (id: string) => {
      try {
        const trace = (await api<{ data: Execution }>('GET', `/executions/${id}`)).data;
        setExecution((x) => (x && x.id !== id ? x : trace));
      } catch (e) {
        toast('error', e instanceof ApiError ? e.message : 'The run’s trace could not be loaded.');
      }
      setFollowing((f) => (f === id ? null : f));
      void client.invalidateQueries({ queryKey: ['executions'] });
    },
    [client, toast],
  );
  /** What happened to the run so far (before the subscription was confirmed, or while the socket was down). */
  const catchUp = useCallback(
    (id: string) =>
      void api<{ data: Execution }>('GET', `/executions/${id}`).then(
        (r) => {
          setExecution((x) => mergeSnapshot(r.data, x, shape.current));
          // Already over: no event will come.
          if (FINISHED.has(r.data.status)) void finish(id);
        },
        (e: unknown) => toast('error', e instanceof ApiError ? e.message : 'The run could not be followed.'),
      ),
    [finish, toast],
  );
  const live = useRealtime(
    following ? { channel: 'execution', executionId: following } : null,
    (e) => {
      setExecution((x) => (x && x.id === following ? applyRunEvent(x, e, nameOf) : x));
      if (following && isFinishEvent(e)) void finish(following);
    },
    { onResync: () => following && catchUp(following) },
  );
  const caughtUp = useRef<string | null>(null);
  useEffect(() => {
    if (!following || !live.ready || caughtUp.current === following) return;
    caughtUp.current = following;
    catchUp(following);
  }, [following, live.ready, catchUp]);
  // NB: only while the live connection is down (a proxy without WebSocket, a restarting server)
  // is the run asked for again, every 2 s; once the connection is back, the resync catches up.
  const connection = useRealtimeStatus();
  useEffect(() => {
    if (!following || connection !== 'reconnecting') return;
    const t = setInterval(() => catchUp(following), 2000);
    return () => clearInterval(t);
  }, [following, connection, catchUp]);

  return {
    execution,
    /** A run is being followed (until it ends; also while it waits). */
    following: following !== null && execution?.status !== 'waiting',
    /** Follows a run just started (the answer of POST /flows/{id}/run). */
    follow: useCallback((started: Execution) => {
      setExecution({ ...started, nodes: [] });
      setFollowing(started.id);
    }, []),
  };
}
