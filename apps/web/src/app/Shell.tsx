import { useEffect, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { NavLink, Outlet, useNavigate } from 'react-router';
import { api } from '../lib/api';
import { CommandPalette } from './CommandPalette';
import { useAuth } from '../lib/auth';
import { useRealtime, useRealtimeStatus } from '../lib/realtime';
import { Button } from '../components/ui';

/** Each entry with the weakest role that may open it (the server refuses the rest anyway). */
const NAV = [
  { to: '/dashboard', label: 'Dashboard', role: 'viewer' },
  { to: '/data', label: 'Data', role: 'viewer' },
  { to: '/flows', label: 'Flows', role: 'viewer' },
  { to: '/agents', label: 'Agents', role: 'viewer' },
  { to: '/actions', label: 'Actions', role: 'viewer' },
  { to: '/executions', label: 'Executions', role: 'viewer' },
  { to: '/vault', label: 'Vault', role: 'editor' },
  { to: '/api-keys', label: 'API keys', role: 'admin' },
  { to: '/webhooks', label: 'Webhooks', role: 'admin' },
  { to: '/members', label: 'Members', role: 'viewer' },
  { to: '/usage', label: 'Usage', role: 'viewer' },
  { to: '/logs', label: 'Logs', role: 'admin' },
  { to: '/audit', label: 'Audit', role: 'admin' },
  { to: '/settings', label: 'Settings', role: 'viewer' },
] as const;

const ACTIONS = [
  { label: 'New model', to: '/data/_new', group: 'Create', role: 'editor' },
  { label: 'New flow (from a template)', to: '/flows', group: 'Create', role: 'editor' },
  { label: 'New agent', to: '/agents/new', group: 'Create', role: 'editor' },
  { label: 'New action', to: '/actions/new', group: 'Create', role: 'editor' },
  { label: 'New webhook', to: '/webhooks?new=1', group: 'Create', role: 'admin' },
  { label: 'Relationship diagram', to: '/data/_diagram', group: 'Page', role: 'viewer' },
] as const;

/**
 * Unread notifications (usage alerts), shown as a count on the Usage entry: loaded once, then
 * counted up as the `notifications` channel announces new ones (marking read refetches it).
 */
function useUnread(): number {
  const client = useQueryClient();
  const key = ['notifications', 'unread'];
  const live = useRealtime(
    { channel: 'notifications' },
    (e) => {
      if (e.event !== 'notification.created') return;
      client.setQueryData<number>(key, (n) => (n ?? 0) + 1);
      // The list on the Usage page, if it is open.
      void client.invalidateQueries({ queryKey: ['notifications'], exact: true });
    },
    { resync: [['notifications']] },
  );
  const r = useQuery({
    queryKey: key,
    enabled: live.ready,
    refetchOnWindowFocus: false,
    queryFn: () => api<{ meta: { unread: number } }>('GET', '/notifications?limit=1&unread=true').then((x) => x.meta.unread),
  });
  return r.data ?? 0;
}

/** Whether the screens are live (a small dot in the sidebar); says so when the connection is being restored. */
function LiveIndicator() {
  const status = useRealtimeStatus();
  const look = {
    live: { dot: 'bg-emerald-500', text: 'Live', title: 'Connected: screens update as things change' },
    connecting: { dot: 'bg-zinc-400', text: 'Connecting…', title: 'Connecting for live updates' },
    reconnecting: { dot: 'bg-amber-500 animate-pulse', text: 'Reconnecting…', title: 'The live connection dropped; screens reload once it is back' },
    idle: { dot: 'bg-zinc-400', text: 'Offline', title: 'Not connected for live updates' },
  }[status];
  return (
    <div
      role="status"
      data-testid="live-status"
      data-status={status}
      title={look.title}
      className="flex items-center gap-2 text-xs text-zinc-600 dark:text-zinc-400"
    >
      <span aria-hidden="true" className={`inline-block h-2 w-2 rounded-full ${look.dot}`} />
      {look.text}
    </div>
  );
}

/** The user's organizations; choosing one makes it active and reloads every screen's data. */
function OrgSwitcher() {
  const { me, switchOrg } = useAuth();
  const client = useQueryClient();
  const navigate = useNavigate();
  const orgs = useQuery({ queryKey: ['orgs', me?.user?.id], queryFn: () => api<{ data: { id: string; name: string }[] }>('GET', '/orgs').then((r) => r.data) });
  if (!orgs.data || orgs.data.length < 2)
    return (
      <div className="truncate text-xs text-zinc-600 dark:text-zinc-400" title={me?.organization?.name}>
        {me?.organization?.name} · {me?.role}
      </div>
    );
  return (
    <label className="flex flex-col gap-1 text-xs text-zinc-600 dark:text-zinc-400">
      <span>Organization · {me?.role}</span>
      <select
        className="rounded border border-zinc-300 bg-white px-1 py-1 text-sm text-zinc-900 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100"
        value={me?.organization?.id ?? ''}
        onChange={(e) =>
          void switchOrg(e.target.value).then(() => {
            client.clear();
            void navigate('/dashboard');
          })
        }
      >
        {orgs.data.map((o) => (
          <option key={o.id} value={o.id}>
            {o.name}
          </option>
        ))}
      </select>
    </label>
  );
}

function useTheme(): [boolean, () => void] {
  const [dark, setDark] = useState(
    () => localStorage.getItem('theme') === 'dark' || (!localStorage.getItem('theme') && matchMedia('(prefers-color-scheme: dark)').matches),
  );
  useEffect(() => {
    document.documentElement.classList.toggle('dark', dark);
  }, [dark]);
  return [
    dark,
    () =>
      setDark((d) => {
        localStorage.setItem('theme', d ? 'light' : 'dark');
        return !d;
      }),
  ];
}

/** The frame of every signed-in page: a persistent sidebar, so each feature is one click away. */
export function Shell() {
  const { me, signOut, atLeast } = useAuth();
  const unread = useUnread();
  const [dark, toggle] = useTheme();
  return (
    <div className="flex min-h-screen flex-col md:flex-row">
      <a href="#main" className="sr-only focus:not-sr-only">
        Skip to content
      </a>
      <aside className="flex flex-col gap-4 border-zinc-200 bg-zinc-50 p-4 md:w-56 md:border-r dark:border-zinc-800 dark:bg-zinc-900">
        <div>
          <div className="text-lg font-bold">∞ Infinity</div>
          <OrgSwitcher />
        </div>
        <nav aria-label="Main" className="flex flex-row flex-wrap gap-1 md:flex-col">
          {NAV.filter((n) => atLeast(n.role)).map((n) => (
            <NavLink
              key={n.to}
              to={n.to}
              className={({ isActive }) =>
                `rounded-md px-3 py-2 text-sm ${isActive ? 'bg-indigo-600 text-white' : 'text-zinc-800 hover:bg-zinc-200 dark:text-zinc-200 dark:hover:bg-zinc-800'}`
              }
            >
              {n.label}
              {n.to === '/usage' && unread > 0 && (
                <span className="ml-2 rounded-full bg-amber-600 px-1.5 text-xs text-white">
                  {unread}
                  <span className="sr-only"> unread notifications</span>
                </span>
              )}
            </NavLink>
          ))}
        </nav>
        <div className="mt-auto flex flex-col gap-2">
          <LiveIndicator />
          <div className="truncate text-xs text-zinc-600 dark:text-zinc-400">{me?.user?.email}</div>
          <kbd className="text-xs text-zinc-600 dark:text-zinc-400">Ctrl K · go anywhere</kbd>
          <Button variant="ghost" onClick={toggle} aria-pressed={dark}>
            {dark ? 'Light theme' : 'Dark theme'}
          </Button>
          <Button variant="secondary" onClick={() => void signOut()}>
            Sign out
          </Button>
        </div>
      </aside>
      <main id="main" className="min-w-0 flex-1">
        <Outlet />
      </main>
      <CommandPalette
        pages={[
          ...NAV.filter((n) => atLeast(n.role)).map((n) => ({ label: n.label, to: n.to, group: 'Page' })),
          ...ACTIONS.filter((a) => atLeast(a.role)).map(({ label, to, group }) => ({ label, to, group })),
        ]}
      />
    </div>
  );
}
