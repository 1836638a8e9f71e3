import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useSearchParams } from 'react-router';
import { ApiError, type List, api } from '../../lib/api';
import { useAuth } from '../../lib/auth';
import { useToast } from '../../lib/toast';
import { useRealtime } from '../../lib/realtime';
import { applyExecutionEvent, isFinishEvent } from './live';
import type { Execution, ExecutionTrace } from '@infinity/contracts';
import { Button, Field, Page, Select, Table } from '../../components/ui';
import { errorMessage, logText } from './format';

const STATUSES = ['queued', 'running', 'waiting', 'succeeded', 'failed', 'canceled'];
const json = (v: unknown) => JSON.stringify(v, null, 2);

/** Executions (filter by flow and status) and the trace of one: every node's input, output, timing. */
export function Executions() {
  const [params, setParams] = useSearchParams();
  const flowId = params.get('flowId') ?? '';
  const status = params.get('status') ?? '';
  const open = params.get('open');
  const { canEdit } = useAuth();
  const toast = useToast();
  const client = useQueryClient();
  const rerun = (fromNodeId: string) =>
    api<{ data: { id: string; status: string } }>('POST', `/executions/${open}/rerun?wait=true`, { fromNodeId }).then(
      (r) => {
        toast(r.data.status === 'failed' ? 'error' : 'success', `Re-run ${r.data.status}.`);
        // Its row arrives through the executions channel.
        setOpen(r.data.id);
      },
      (e: unknown) => toast('error', e instanceof ApiError ? e.message : 'The re-run failed.'),
    );
  const setOpen = (id: string) => setParams((p) => (p.set('open', id), p));
  const q = new URLSearchParams({ limit: '100', ...(flowId ? { flowId } : {}), ...(status ? { status } : {}) });
  const listKey = ['executions', q.toString()];
  // Rows change in place as executions are queued, advance and finish: no polling, no reload.
  const live = useRealtime(
    flowId ? { channel: 'executions', flowId } : { channel: 'executions' },
    (e) => {
      client.setQueryData<List<Execution>>(listKey, (l) => l && { ...l, data: applyExecutionEvent(l.data, e, { status }) });
      // The open trace is read again once its run is over (its outputs are not in the events).
      if (isFinishEvent(e) && e.data.executionId === open) void client.invalidateQueries({ queryKey: ['execution', open] });
    },
    { resync: [['executions'], ['execution']] },
  );
  const list = useQuery({
    queryKey: listKey,
    enabled: live.ready,
    refetchOnWindowFocus: false,
    queryFn: () => api<List<Execution>>('GET', `/executions?${q.toString()}`),
  });
  const trace = useQuery({
    queryKey: ['execution', open],
    refetchOnWindowFocus: false,
    enabled: open !== null,
    queryFn: () => api<{ data: ExecutionTrace }>('GET', `/executions/${open}`).then((r) => r.data),
  });
  return (
    <Page title="Executions">
      <div className="max-w-xs">
        <Field label="Status">
          {(id) => (
            <Select
              id={id}
              value={status}
              onChange={(e) => setParams((p) => (e.target.value ? (p.set('status', e.target.value), p) : (p.delete('status'), p)))}
            >
              <option value="">any</option>
              {STATUSES.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </Select>
          )}
        </Field>
      </div>
      {list.isError && <p role="alert">{list.error.message}</p>}
      <Table
        rows={list.data?.data ?? []}
        rowKey={(e) => e.id}
        columns={[
          { key: 'at', header: 'Started', cell: (e) => new Date(e.createdAt).toLocaleString() },
          {
            key: 'status',
            header: 'Status',
            cell: (e) => (
              <span data-testid={`status-${e.id}`} className={e.status === 'failed' ? 'text-red-700 dark:text-red-400' : ''}>
                {e.status}
              </span>
            ),
          },
          { key: 'trigger', header: 'Trigger', cell: (e) => e.trigger },
          { key: 'steps', header: 'Steps', cell: (e) => e.steps },
          { key: 'ms', header: 'ms', cell: (e) => (e.durationMs === null ? '' : Math.round(e.durationMs)) },
        ]}
        actions={(e) => (
          <Button variant="ghost" onClick={() => setOpen(e.id)} aria-label={`Trace of ${e.id}`}>
            Trace
          </Button>
        )}
      />
      {trace.data && (
        <section aria-label="Trace" className="flex flex-col gap-3">
          <h2 className="text-lg font-semibold">
            Trace · {trace.data.status}
            {errorMessage(trace.data.error) ? ` · ${errorMessage(trace.data.error)}` : ''}
          </h2>
          <Link className="text-sm text-indigo-700 underline dark:text-indigo-300" to={`/flows/${trace.data.flowId}`}>
            Open the flow in the editor
          </Link>
          {trace.data.nodes.map((n) => (
            <details key={`${n.nodeId}-${n.attempts}`} className="rounded-md border border-zinc-200 p-3 text-sm dark:border-zinc-800">
              <summary className="cursor-pointer">
                <strong>{n.nodeName}</strong> <code>{n.nodeType}</code> · {n.status} · {n.durationMs.toFixed(1)} ms
                {n.attempts > 1 ? ` · ${n.attempts} attempts` : ''}
              </summary>
              <div className="mt-2 grid gap-2 md:grid-cols-2">
                <pre className="overflow-auto rounded bg-zinc-100 p-2 text-xs dark:bg-zinc-900" aria-label={`Input of ${n.nodeName}`}>
                  {json(n.input)}
                </pre>
                <pre className="overflow-auto rounded bg-zinc-100 p-2 text-xs dark:bg-zinc-900" aria-label={`Output of ${n.nodeName}`}>
                  {json(n.error ?? n.output)}
                </pre>
              </div>
              {logText(n.logs) && (
                <pre className="mt-2 overflow-auto rounded bg-zinc-100 p-2 text-xs dark:bg-zinc-900" aria-label={`Log of ${n.nodeName}`}>
                  {logText(n.logs)}
                </pre>
              )}
              {canEdit && (
                <Button
                  className="mt-2"
                  variant="secondary"
                  onClick={() => void rerun(n.nodeId)}
                  title="Runs this node and everything after it again, reusing the stored outputs of the nodes before it"
                >
                  Re-run from {n.nodeName}
                </Button>
              )}
            </details>
          ))}
        </section>
      )}
    </Page>
  );
}
