import { Link } from 'react-router';
import { useAuth } from '../../lib/auth';
import { Empty, Page } from '../../components/ui';
import { useModels } from '../../lib/refs';

export function Models() {
  const { canEdit } = useAuth();
  const models = useModels();
  return (
    <Page
      title="Data"
      actions={
        <>
          <Link
            to="/data/_diagram"
            className="rounded-md border border-zinc-300 px-3 py-2 text-sm font-medium hover:bg-zinc-50 dark:border-zinc-700 dark:hover:bg-zinc-800"
          >
            Relationships
          </Link>
          {canEdit && (
            <Link to="/data/_new" className="rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500">
              New model
            </Link>
          )}
        </>
      }
    >
      {models.isPending ? (
        <p aria-busy="true">Loading models…</p>
      ) : models.data?.length ? (
        <ul className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3">
          {models.data.map((m) => (
            <li key={m.name}>
              <Link to={`/data/${m.name}`} className="block rounded-lg border border-zinc-200 p-4 hover:border-indigo-400 dark:border-zinc-800">
                <div className="font-medium">{m.label}</div>
                <div className="text-xs text-zinc-600 dark:text-zinc-400">
                  {m.name} · {m.fields.length} fields
                </div>
                {m.description && <p className="mt-2 text-sm">{m.description}</p>}
              </Link>
            </li>
          ))}
        </ul>
      ) : (
        <Empty>No models yet. {canEdit ? 'Create one to get a table and an instant REST API.' : 'An editor can create one.'}</Empty>
      )}
    </Page>
  );
}
