import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router';
import { ApiError, api } from '../../lib/api';
import { useAuth } from '../../lib/auth';
import { useToast } from '../../lib/toast';
import { Button, Empty, Page, Table } from '../../components/ui';

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
  const flows = useQuery({ queryKey: ['flows'], queryFn: () => api<{ data: Flow[] }>('GET', '/flows?limit=200').then((r) => r.data) });
  const fail = (err: unknown) => toast('error', err instanceof ApiError ? err.message : 'The request failed.');
  const toggle = (f: Flow) => api('PATCH', `/flows/${f.id}`, { active: !f.active }).then(() => client.invalidateQueries({ queryKey: ['flows'] }), fail);
  const run = (f: Flow) =>
    api<{ data: { id: string; status: string } }>('POST', `/flows/${f.id}/run?wait=true`, { input: {} }).then((r) => {
      toast(r.data.status === 'failed' ? 'error' : 'success', `Run ${r.data.status}.`);
      return client.invalidateQueries({ queryKey: ['executions'] });
    }, fail);
  return (
    <Page title="Flows">
      {flows.isError && <p role="alert">{(flows.error).message}</p>}
      {flows.data?.length === 0 && <Empty>No flows yet. Create one through the API (a template such as webhook-to-record is a good start).</Empty>}
      {Boolean(flows.data?.length) && (
        <Table
          rows={flows.data!}
          rowKey={(f) => f.id}
          columns={[
            { key: 'name', header: 'Name', cell: (f) => <Link className="text-indigo-700 underline dark:text-indigo-300" to={`/executions?flowId=${f.id}`}>{f.name}</Link> },
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
