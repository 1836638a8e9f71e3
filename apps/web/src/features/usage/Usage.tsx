import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../lib/api';
import { Button, Page } from '../../components/ui';

interface Metric {
  metric: string;
  label: string;
  used: number;
  limit: number | null;
  percent: number | null;
}

/** The plan's limits against what the organization uses, as bars (amber from 80%, red at 100%). */
export function Usage() {
  const usage = useQuery({ queryKey: ['usage'], queryFn: () => api<{ data: { plan: string; metrics: Metric[] } }>('GET', '/usage').then((r) => r.data) });
  const client = useQueryClient();
  const notes = useQuery({
    queryKey: ['notifications'],
    queryFn: () =>
      api<{ data: { id: string; title: string; body: string; read: boolean; createdAt: string }[] }>('GET', '/notifications?limit=20').then((r) => r.data),
  });
  const markRead = (path: string) => api('POST', path).then(() => client.invalidateQueries({ queryKey: ['notifications'] }));
  return (
    <Page title="Usage">
      {usage.isPending && <p aria-busy="true">Loading usage…</p>}
      {usage.isError && (
        <p role="alert" className="text-sm text-red-700 dark:text-red-400">
          {usage.error.message}
        </p>
      )}
      {usage.data && (
        <>
          <p className="text-sm">
            Plan: <strong className="capitalize">{usage.data.plan}</strong>
          </p>
          <ul className="grid gap-4 sm:grid-cols-2">
            {usage.data.metrics.map((m) => {
              const pct = Math.min(100, m.percent ?? 0);
              const color = pct >= 100 ? 'bg-red-600' : pct >= 80 ? 'bg-amber-500' : 'bg-indigo-600';
              return (
                <li key={m.metric} className="rounded-lg border border-zinc-200 p-4 dark:border-zinc-800">
                  <div className="flex justify-between text-sm">
                    <span className="font-medium capitalize">{m.label}</span>
                    <span>
                      {m.used.toLocaleString()} / {m.limit === null ? 'unlimited' : m.limit.toLocaleString()}
                    </span>
                  </div>
                  {m.limit !== null && (
                    <div
                      className="mt-2 h-2 rounded bg-zinc-200 dark:bg-zinc-800"
                      role="progressbar"
                      aria-label={m.label}
                      aria-valuemin={0}
                      aria-valuemax={100}
                      aria-valuenow={Math.round(pct)}
                    >
                      <div className={`h-2 rounded ${color}`} style={{ width: `${pct}%` }} />
                    </div>
                  )}
                </li>
              );
            })}
          </ul>
        </>
      )}
      <section aria-labelledby="alerts">
        <h2 id="alerts" className="mb-2 text-lg font-semibold">
          Notifications
        </h2>
        {notes.data?.some((n) => !n.read) && (
          <div>
            <Button variant="secondary" onClick={() => void markRead('/notifications/read-all')}>
              Mark all read
            </Button>
          </div>
        )}
        {notes.data?.length ? (
          <ul className="flex flex-col gap-2">
            {notes.data.map((n) => (
              <li
                key={n.id}
                className={`rounded-md border p-3 text-sm ${n.read ? 'border-zinc-200 dark:border-zinc-800' : 'border-amber-400 bg-amber-50 dark:bg-amber-950'}`}
              >
                <div className="flex items-start justify-between gap-2">
                  <span className="font-medium">
                    {n.read ? '' : '● '}
                    {n.title}
                  </span>
                  {!n.read && (
                    <Button variant="ghost" onClick={() => void markRead(`/notifications/${n.id}/read`)} aria-label={`Mark “${n.title}” read`}>
                      Mark read
                    </Button>
                  )}
                </div>
                <div>{n.body}</div>
                <div className="text-xs text-zinc-600 dark:text-zinc-400">{new Date(n.createdAt).toLocaleString()}</div>
              </li>
            ))}
          </ul>
        ) : (
          <p className="text-sm text-zinc-600 dark:text-zinc-400">No notifications.</p>
        )}
      </section>
    </Page>
  );
}
