import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { Button } from '../../../components/ui';
import { ApiError, api } from '../../../lib/api';
import { errorMessage, logText } from '../format';
import type { LiveExecution } from '../live';
import type { FlowSettings } from '@infinity/contracts';
import type { Flow } from './types';

export type Execution = LiveExecution;

export const FINISHED = new Set(['succeeded', 'failed', 'canceled']);
const json = (v: unknown) => JSON.stringify(v, null, 2);
const box = 'w-full rounded-md border border-zinc-300 bg-white px-2 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900';

/** Run the flow with an input; the canvas shows each node's status as the execution advances. */
export function RunPanel({ execution, running, onRun }: { execution: Execution | null; running: boolean; onRun: (input: unknown) => void }) {
  const [text, setText] = useState('{}');
  const [bad, setBad] = useState(false);
  return (
    <div className="flex flex-col gap-3 text-sm">
      <label className="flex flex-col gap-1 font-medium">
        Input (JSON)
        <textarea className={`${box} font-mono`} rows={5} value={text} aria-invalid={bad || undefined} onChange={(e) => setText(e.target.value)} />
      </label>
      {bad && <p className="text-xs text-red-700 dark:text-red-400">The input is not valid JSON.</p>}
      <Button
        disabled={running}
        onClick={() => {
          try {
            const input = JSON.parse(text || 'null') as unknown;
            setBad(false);
            onRun(input);
          } catch {
            setBad(true);
          }
        }}
      >
        {running ? 'Running…' : 'Run flow'}
      </Button>
      {execution && (
        <section aria-label="Run result" className="flex flex-col gap-2">
          <p role="status">
            Execution <strong data-testid="run-status">{execution.status}</strong>
            {execution.durationMs !== null ? ` in ${Math.round(execution.durationMs)} ms` : ''} ·{' '}
            <Link className="text-indigo-700 underline dark:text-indigo-300" to={`/executions?open=${execution.id}`}>
              trace
            </Link>
          </p>
          {errorMessage(execution.error) && <p className="text-red-700 dark:text-red-400">{errorMessage(execution.error)}</p>}
          <ol className="flex flex-col gap-1" aria-label="Node runs">
            {execution.nodes.map((n, i) => (
              <li key={`${n.nodeId}-${i}`} className="flex flex-col gap-0.5" data-testid={`run-node-${n.nodeName}`} data-status={n.status}>
                <span className="flex justify-between gap-2">
                  <span>{n.nodeName}</span>
                  <span className={n.status === 'failed' ? 'text-red-700 dark:text-red-400' : 'text-zinc-600 dark:text-zinc-400'}>
                    {n.status === 'running' || n.status === 'waiting' ? `${n.status}…` : `${n.status} · ${n.durationMs.toFixed(1)} ms`}
                  </span>
                </span>
                {logText(n.logs) && (
                  <pre className="overflow-auto rounded bg-zinc-100 px-2 py-1 text-xs dark:bg-zinc-900" aria-label={`Log of ${n.nodeName}`}>
                    {logText(n.logs)}
                  </pre>
                )}
              </li>
            ))}
          </ol>
          {execution.status === 'waiting' && (
            <p className="text-xs text-zinc-600 dark:text-zinc-400">Waiting: the run continues when its wait node is resumed; this panel follows it.</p>
          )}
          {FINISHED.has(execution.status) && (
            <>
              <h3 className="font-semibold">Output</h3>
              <pre className="max-h-64 overflow-auto rounded bg-zinc-100 p-2 text-xs dark:bg-zinc-900" data-testid="run-output">
                {json(execution.output)}
              </pre>
              <p className="text-xs text-zinc-600 dark:text-zinc-400">Select a node to see what it received and emitted.</p>
            </>
          )}
        </section>
      )}
    </div>
  );
}

/** Whole-flow settings: timeout, step limit, retention, and the flow that handles failures. */
export function SettingsPanel({
  flow,
  readOnly,
  flows,
  onChange,
}: {
  flow: Flow;
  readOnly: boolean;
  flows: { value: string; label: string }[];
  onChange: (settings: FlowSettings) => void;
}) {
  const s = flow.settings;
  const set = <K extends keyof FlowSettings>(k: K, v: FlowSettings[K]) => {
    const next: FlowSettings = { ...s, [k]: v };
    if (v === undefined || Number.isNaN(v)) delete next[k];
    onChange(next);
  };
  const num = (v: string) => (v === '' ? undefined : Number(v));
  return (
    <div className="flex flex-col gap-3 text-sm">
      <label className="flex flex-col gap-1 font-medium">
        Timeout of a whole run (ms)
        <input
          className={box}
          type="number"
          min={1}
          disabled={readOnly}
          value={s.timeoutMs ?? ''}
          placeholder="300000"
          onChange={(e) => set('timeoutMs', num(e.target.value))}
        />
      </label>
      <label className="flex flex-col gap-1 font-medium">
        Most node runs per execution
        <input
          className={box}
          type="number"
          min={1}
          disabled={readOnly}
          value={s.maxSteps ?? ''}
          placeholder="10000"
          onChange={(e) => set('maxSteps', num(e.target.value))}
        />
      </label>
      <label className="flex flex-col gap-1 font-medium">
        Keep executions for (days)
        <input
          className={box}
          type="number"
          min={1}
          disabled={readOnly}
          value={s.retentionDays ?? ''}
          placeholder="server default"
          onChange={(e) => set('retentionDays', num(e.target.value))}
        />
      </label>
      <label className="flex flex-col gap-1 font-medium">
        Error flow (runs with the failed execution)
        <select className={box} disabled={readOnly} value={s.errorFlowId ?? ''} onChange={(e) => set('errorFlowId', e.target.value || null)}>
          <option value="">none</option>
          {flows
            .filter((f) => f.value !== flow.id)
            .map((f) => (
              <option key={f.value} value={f.value}>
                {f.label}
              </option>
            ))}
        </select>
      </label>
    </div>
  );
}

interface Version {
  version: number;
  name: string;
  createdAt: string;
}

/** Every saved version; restoring one makes it current again (as a new version). */
export function VersionsPanel({ flow, readOnly, onRestored }: { flow: Flow; readOnly: boolean; onRestored: (f: Flow) => void }) {
  const versions = useQuery({
    queryKey: ['flow-versions', flow.id, flow.version],
    queryFn: () => api<{ data: Version[] }>('GET', `/flows/${flow.id}/versions?limit=100`).then((r) => r.data),
  });
  const [error, setError] = useState('');
  return (
    <div className="flex flex-col gap-2 text-sm">
      {error && <p role="alert">{error}</p>}
      <ol className="flex flex-col gap-1">
        {versions.data?.map((v) => (
          <li key={v.version} className="flex items-center justify-between gap-2 rounded px-1 py-1 hover:bg-zinc-100 dark:hover:bg-zinc-800">
            <span>
              <strong>v{v.version}</strong> · {new Date(v.createdAt).toLocaleString()}
              {v.version === flow.version && ' · current'}
            </span>
            {!readOnly && v.version !== flow.version && (
              <Button
                variant="ghost"
                aria-label={`Restore version ${v.version}`}
                onClick={() =>
                  void api<{ data: Flow }>('POST', `/flows/${flow.id}/versions/${v.version}/restore`).then(
                    (r) => onRestored(r.data),
                    (e: unknown) => setError(e instanceof ApiError ? e.message : 'The restore failed.'),
                  )
                }
              >
                Restore
              </Button>
            )}
          </li>
        ))}
      </ol>
    </div>
  );
}

const slugOf = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .padEnd(3, '0');

/** Publish the flow as an endpoint (API key or public), with a curl example and the widget snippet. */
export function PublishPanel({ flow, isOwner, readOnly, onChanged }: { flow: Flow; isOwner: boolean; readOnly: boolean; onChanged: (f: Flow) => void }) {
  const [slug, setSlug] = useState(flow.publish?.slug ?? slugOf(flow.name));
  const [access, setAccess] = useState<'public' | 'apiKey'>(flow.publish?.access ?? 'apiKey');
  const [store, setStore] = useState(flow.publish?.storeConsumerData ?? true);
  const [error, setError] = useState<ApiError | null>(null);
  const call = (path: string, body?: unknown) =>
    api<{ data: Flow }>('POST', `/flows/${flow.id}/${path}`, body).then(
      (r) => {
        setError(null);
        onChanged(r.data);
      },
      (e: unknown) => setError(e instanceof ApiError ? e : new ApiError(0, 'FAILED', 'The request failed.', null)),
    );
  const url = flow.publish ? `${location.origin}/api/v1/run/${flow.publish.slug}` : '';
  const curl = flow.publish
    ? `curl -X POST ${url} \\\n  -H 'content-type: application/json' \\\n${flow.publish.access === 'apiKey' ? "  -H 'x-api-key: YOUR_API_KEY' \\\n" : ''}  -d '{"message": "hello"}'`
    : '';
  const widget = flow.publish ? `<script src="${location.origin}/widget.js" data-slug="${flow.publish.slug}" defer></script>` : '';
  const fieldErrors = error?.fieldErrors() ?? {};
  return (
    <div className="flex flex-col gap-3 text-sm">
      <label className="flex flex-col gap-1 font-medium">
        Slug
        <input className={box} value={slug} disabled={readOnly} aria-invalid={fieldErrors.slug ? true : undefined} onChange={(e) => setSlug(e.target.value)} />
      </label>
      {fieldErrors.slug && <p className="text-xs text-red-700 dark:text-red-400">{fieldErrors.slug}</p>}
      <label className="flex flex-col gap-1 font-medium">
        Access
        <select className={box} value={access} disabled={readOnly} onChange={(e) => setAccess(e.target.value as 'public' | 'apiKey')}>
          <option value="apiKey">API key</option>
          <option value="public" disabled={!isOwner}>
            public{isOwner ? '' : ' (owners only)'}
          </option>
        </select>
      </label>
      <label className="flex items-center gap-2">
        <input type="checkbox" checked={store} disabled={readOnly} onChange={(e) => setStore(e.target.checked)} />
        Store consumers’ inputs and outputs in executions
      </label>
      {error && !fieldErrors.slug && (
        <p role="alert" className="text-red-700 dark:text-red-400">
          {error.message}
        </p>
      )}
      {!readOnly && (
        <div className="flex gap-2">
          <Button onClick={() => void call('publish', { slug, access, storeConsumerData: store })}>{flow.publish ? 'Update' : 'Publish'}</Button>
          {flow.publish && (
            <Button variant="secondary" onClick={() => void call('unpublish')}>
              Unpublish
            </Button>
          )}
        </div>
      )}
      {flow.publish && (
        <section aria-label="Endpoint" className="flex flex-col gap-2">
          <h3 className="font-semibold">Endpoint</h3>
          <code className="break-all" data-testid="endpoint">
            POST {url}
          </code>
          <h3 className="font-semibold">curl</h3>
          <pre className="overflow-auto rounded bg-zinc-100 p-2 text-xs dark:bg-zinc-900">{curl}</pre>
          <h3 className="font-semibold">Embed on a web page</h3>
          <pre className="overflow-auto rounded bg-zinc-100 p-2 text-xs dark:bg-zinc-900" data-testid="widget-snippet">
            {widget}
          </pre>
          <Button variant="secondary" onClick={() => void navigator.clipboard.writeText(widget)}>
            Copy snippet
          </Button>
        </section>
      )}
    </div>
  );
}
