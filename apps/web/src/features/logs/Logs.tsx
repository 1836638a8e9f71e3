import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { type List, api } from '../../lib/api';
import { Field, Input, Page, Select, Table } from '../../components/ui';

interface RequestRow {
  id: string;
  at: string;
  requestId: string;
  method: string;
  route: string | null;
  status: number;
  durationMs: number;
  actor: { kind: string } | null;
}
interface AppRow {
  id: string;
  at: string;
  level: string;
  requestId: string | null;
  message: string;
  data: Record<string, unknown>;
}

/** The request log and the app log (warnings, errors) with the filters an incident needs. */
export function Logs() {
  const [kind, setKind] = useState<'request' | 'app'>('request');
  const [status, setStatus] = useState('');
  const [q, setQ] = useState('');
  const [requestId, setRequestId] = useState('');
  const params = new URLSearchParams({ kind, limit: '200' });
  if (kind === 'request' && status) params.set('status', status);
  if (q) params.set('q', q);
  if (requestId) params.set('requestId', requestId);
  const logs = useQuery({ queryKey: ['logs', params.toString()], queryFn: () => api<List<RequestRow | AppRow>>('GET', `/logs?${params.toString()}`) });
  const rows = logs.data?.data ?? [];
  const when = (t: string) => new Date(t).toLocaleString();
  return (
    <Page title="Logs">
      <div className="flex flex-wrap items-end gap-3">
        <Field label="Kind">
          {(id) => (
            <Select id={id} value={kind} onChange={(e) => setKind(e.target.value as 'request' | 'app')}>
              <option value="request">Requests</option>
              <option value="app">Warnings and errors</option>
            </Select>
          )}
        </Field>
        {kind === 'request' && (
          <Field label="Status">
            {(id) => (
              <Select id={id} value={status} onChange={(e) => setStatus(e.target.value)}>
                <option value="">any</option>
                {['2xx', '4xx', '5xx'].map((s) => (
                  <option key={s}>{s}</option>
                ))}
              </Select>
            )}
          </Field>
        )}
        <Field label="Text">{(id) => <Input id={id} type="search" value={q} onChange={(e) => setQ(e.target.value)} />}</Field>
        <Field label="Request id">{(id) => <Input id={id} value={requestId} onChange={(e) => setRequestId(e.target.value.trim())} />}</Field>
      </div>
      {logs.isError && <p role="alert">{logs.error.message}</p>}
      {kind === 'request' ? (
        <Table
          rows={rows as RequestRow[]}
          rowKey={(r) => r.id}
          columns={[
            { key: 'at', header: 'When', cell: (r) => when(r.at) },
            { key: 'm', header: 'Method', cell: (r) => r.method },
            { key: 'route', header: 'Route', cell: (r) => <code>{r.route ?? '—'}</code> },
            {
              key: 'status',
              header: 'Status',
              cell: (r) => (
                <span className={r.status >= 500 ? 'text-red-700 dark:text-red-400' : r.status >= 400 ? 'text-amber-700 dark:text-amber-400' : ''}>
                  {r.status}
                </span>
              ),
            },
            { key: 'ms', header: 'ms', cell: (r) => r.durationMs.toFixed(1) },
            { key: 'actor', header: 'Actor', cell: (r) => r.actor?.kind ?? '' },
            { key: 'rid', header: 'Request id', cell: (r) => <code>{r.requestId}</code> },
          ]}
        />
      ) : (
        <Table
          rows={rows as AppRow[]}
          rowKey={(r) => r.id}
          columns={[
            { key: 'at', header: 'When', cell: (r) => when(r.at) },
            { key: 'level', header: 'Level', cell: (r) => r.level },
            { key: 'msg', header: 'Message', cell: (r) => r.message },
            { key: 'rid', header: 'Request id', cell: (r) => <code>{r.requestId ?? ''}</code> },
          ]}
        />
      )}
    </Page>
  );
}
