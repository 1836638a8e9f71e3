import { useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate } from 'react-router';
import { ApiError, api } from '../../lib/api';
import { useAuth } from '../../lib/auth';
import { useToast } from '../../lib/toast';
import { Button, Empty, Field, Page, Select, Table } from '../../components/ui';

const TEMPLATES = [
  { id: 'blank', label: 'Blank (manual trigger)' },
  { id: 'webhook-to-record', label: 'Webhook → record' },
  { id: 'scheduled-http-to-record', label: 'Schedule → HTTP → record' },
];

interface Flow {
  id: string;
  name: string;
  version: number;
  active: boolean;
  nodes: unknown[];
  publish: { slug: string } | null;
  updatedAt: string;
}

/** Flows with their state: activate or pause their triggers, run one now and open its trace. */
export function Flows() {
  const { canEdit } = useAuth();
  const client = useQueryClient();
  const toast = useToast();
  const navigate = useNavigate();
  const [template, setTemplate] = useState('blank');
  // A template may create the model it writes to: the model list is refreshed too.
  const create = () =>
    api<{ data: Flow }>('POST', `/flows?template=${template}`).then(async (r) => {
      await client.invalidateQueries({ queryKey: ['models'] });
      return navigate(`/flows/${r.data.id}`);
    }, fail);
  const flows = useQuery({ queryKey: ['flows'], queryFn: () => api<{ data: Flow[] }>('GET', '/flows?limit=200').then((r) => r.data) });
  const fail = (err: unknown) => toast('error', err instanceof ApiError ? err.message : 'The request failed.');
  // If-Match: a flow saved elsewhere since this list was loaded is not switched unseen (412: the list reloads).
  const toggle = (f: Flow) =>
    api('PATCH', `/flows/${f.id}`, { active: !f.active }, { ifMatch: f.version }).then(
      () => client.invalidateQueries({ queryKey: ['flows'] }),
      (err: unknown) => (fail(err), client.invalidateQueries({ queryKey: ['flows'] })),
    );
  const run = (f: Flow) =>
    api<{ data: { id: string; status: string } }>('POST', `/flows/${f.id}/run?wait=true`, { input: {} }).then((r) => {
      toast(r.data.status === 'failed' ? 'error' : 'success', `Run ${r.data.status}.`);
      return client.invalidateQueries({ queryKey: ['executions'] });
    }, fail);
  return (
    <Page
      title="Flows"
      actions={
        canEdit && (
          <div className="flex items-end gap-2">
            <Field label="Start from">
              {(id) => (
                <Select id={id} value={template} onChange={(e) => setTemplate(e.target.value)}>
                  {TEMPLATES.map((t) => (
                    <option key={t.id} value={t.id}>
                      {t.label}
                    </option>
                  ))}
                </Select>
              )}
            </Field>
            <Button onClick={() => void create()}>New flow</Button>
          </div>
        )
      }
    >
      {flows.isError && <p role="alert">{flows.error.message}</p>}
      {flows.data?.length === 0 && <Empty>No flows yet. Start one from a template{canEdit ? ' with “New flow”' : ''}.</Empty>}
      {Boolean(flows.data?.length) && (
        <Table
          rows={flows.data!}
          rowKey={(f) => f.id}
          columns={[
            {
              key: 'name',
              header: 'Name',
              cell: (f) => (
                <Link className="text-indigo-700 underline dark:text-indigo-300" to={`/flows/${f.id}`}>
                  {f.name}
                </Link>
              ),
            },
            {
              key: 'runs',
              header: 'Runs',
              cell: (f) => (
                <Link className="text-indigo-700 underline dark:text-indigo-300" to={`/executions?flowId=${f.id}`} aria-label={`Executions of ${f.name}`}>
                  executions
                </Link>
              ),
            },
            { key: 'state', header: 'State', cell: (f) => (f.active ? 'active' : 'paused') },
            { key: 'v', header: 'Version', cell: (f) => f.version },
            { key: 'nodes', header: 'Nodes', cell: (f) => f.nodes.length },
            { key: 'pub', header: 'Published', cell: (f) => (f.publish ? <code>/api/v1/run/{f.publish.slug}</code> : '') },
            { key: 'at', header: 'Updated', cell: (f) => new Date(f.updatedAt).toLocaleString() },
          ]}
          actions={
            canEdit
              ? (f) => (
                  <span className="flex justify-end gap-1">
                    <Button variant="ghost" onClick={() => void run(f)} aria-label={`Run ${f.name}`}>
                      Run
                    </Button>
                    <Button variant="ghost" onClick={() => void toggle(f)} aria-label={`${f.active ? 'Pause' : 'Activate'} ${f.name}`}>
                      {f.active ? 'Pause' : 'Activate'}
                    </Button>
                  </span>
                )
              : undefined
          }
        />
      )}
    </Page>
  );
}
