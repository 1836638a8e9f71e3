import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api } from '../../lib/api';
import { useAuth } from '../../lib/auth';
import { Empty, Page, Table } from '../../components/ui';
import type { Agent } from './types';

/** Agents of the organization: model, memory, tools and whether they answer. */
export function Agents() {
  const { canEdit } = useAuth();
  const agents = useQuery({ queryKey: ['agents'], queryFn: () => api<{ data: Agent[] }>('GET', '/agents?limit=200').then((r) => r.data) });
  return (
    <Page
      title="Agents"
      actions={
        canEdit && (
          <Link to="/agents/new" className="rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500">
            New agent
          </Link>
        )
      }
    >
      {agents.isError && <p role="alert">{agents.error.message}</p>}
      {agents.data?.length === 0 && (
        <Empty>No agents yet. {canEdit ? 'An agent answers with a model of your choice, your data and your flows as tools.' : ''}</Empty>
      )}
      {Boolean(agents.data?.length) && (
        <Table
          rows={agents.data!}
          rowKey={(a) => a.id}
          columns={[
            {
              key: 'name',
              header: 'Name',
              cell: (a) => (
                <Link className="text-indigo-700 underline dark:text-indigo-300" to={`/agents/${a.id}`}>
                  {a.name}
                </Link>
              ),
            },
            { key: 'model', header: 'Model', cell: (a) => `${a.provider} · ${a.model}` },
            { key: 'memory', header: 'Memory', cell: (a) => a.memory.replace('_', '-') },
            { key: 'tools', header: 'Tools', cell: (a) => a.tools.length },
            { key: 'status', header: 'Status', cell: (a) => a.status },
          ]}
        />
      )}
    </Page>
  );
}
