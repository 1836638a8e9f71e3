import { useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Area, AreaChart, Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { api } from '../../lib/api';
import { useRealtime } from '../../lib/realtime';
import { Page, Select } from '../../components/ui';

interface Stats {
  intervalSeconds: number;
  requests: { t: string; count: number; errors: number; errorRate: number; p50: number | null; p95: number | null; p99: number | null }[];
  executions: ({ t: string } & Record<'succeeded' | 'failed' | 'canceled' | 'running' | 'queued' | 'waiting', number>)[];
  tokens: { t: string; input: number; output: number }[];
  totals: { requests: number; errors: number; errorRate: number; executions: number; tokens: number };
}

/** What the `stats` channel pushes, at most once a second: the counts of the seconds from..to. */
export interface StatsDelta {
  executions: { succeeded: number; failed: number };
  records: { created: number; updated: number; deleted: number };
  from: string;
  to: string;
}

/**
 * Stats with a delta folded in: the executions of its time go into their bucket (a new bucket
 * when the time has moved past the last one) and into the total.
 */
export function applyDelta(s: Stats, d: StatsDelta): Stats {
  const n = d.executions.succeeded + d.executions.failed;
  if (!n) return s;
  const at = Date.parse(d.to);
  const span = s.intervalSeconds * 1000;
  const executions = [...s.executions];
  const last = executions.at(-1);
  let i = executions.findIndex((b) => Date.parse(b.t) <= at && at < Date.parse(b.t) + span);
  if (i < 0 && (!last || at >= Date.parse(last.t) + span)) {
    const start = last ? Date.parse(last.t) + Math.floor((at - Date.parse(last.t)) / span) * span : at;
    // NB: the oldest bucket stays: the charts above share their time axis with this one.
    executions.push({ t: new Date(start).toISOString(), succeeded: 0, failed: 0, canceled: 0, running: 0, queued: 0, waiting: 0 });
    i = executions.length - 1;
  }
  const b = executions[i];
  if (b) executions[i] = { ...b, succeeded: b.succeeded + d.executions.succeeded, failed: b.failed + d.executions.failed };
  return { ...s, executions, totals: { ...s.totals, executions: s.totals.executions + n } };
}

const NO_LIVE = { succeeded: 0, failed: 0, created: 0, updated: 0, deleted: 0 };

const RANGES = { '1h': { ms: 3_600_000, interval: '1m' }, '24h': { ms: 86_400_000, interval: '15m' }, '7d': { ms: 7 * 86_400_000, interval: '1h' } } as const;

const hhmm = (t: string) => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
const whenLabel = (t: unknown) => (typeof t === 'string' ? new Date(t).toLocaleString() : '');

/** Grid, time axis, value axis, tooltip and legend: the same on every chart. */
const frame = (yWidth: number, integers: boolean) => [
  <CartesianGrid key="grid" strokeDasharray="3 3" opacity={0.3} />,
  <XAxis key="x" dataKey="t" tickFormatter={hhmm} minTickGap={40} fontSize={11} />,
  <YAxis key="y" allowDecimals={!integers} fontSize={11} width={yWidth} />,
  <Tooltip key="tip" labelFormatter={whenLabel} />,
  <Legend key="legend" />,
];

function Chart({ title, children }: { title: string; children: React.ReactElement }) {
  return (
    <section className="rounded-lg border border-zinc-200 p-4 dark:border-zinc-800" aria-label={title}>
      <h2 className="mb-2 text-sm font-medium">{title}</h2>
      <div className="h-56">
        <ResponsiveContainer width="100%" height="100%">
          {children}
        </ResponsiveContainer>
      </div>
    </section>
  );
}

/** The organization at a glance: request volume and errors, latency percentiles, executions, tokens. */
export function Dashboard() {
  const [range, setRange] = useState<keyof typeof RANGES>('24h');
  const client = useQueryClient();
  // Counted since the page opened, from the stats channel (records have no chart of their own).
  const [since, setSince] = useState(NO_LIVE);
  const live = useRealtime(
    { channel: 'stats' },
    (e) => {
      if (e.event !== 'stats.delta') return;
      const d = e.data as unknown as StatsDelta;
      client.setQueryData<Stats>(['stats', range], (s) => s && applyDelta(s, d));
      setSince((x) => ({
        succeeded: x.succeeded + d.executions.succeeded,
        failed: x.failed + d.executions.failed,
        created: x.created + d.records.created,
        updated: x.updated + d.records.updated,
        deleted: x.deleted + d.records.deleted,
      }));
    },
    { resync: [['stats']] },
  );
  const stats = useQuery({
    queryKey: ['stats', range],
    enabled: live.ready,
    refetchOnWindowFocus: false,
    queryFn: () => {
      const to = new Date();
      const from = new Date(to.getTime() - RANGES[range].ms);
      return api<{ data: Stats }>('GET', `/stats?from=${from.toISOString()}&to=${to.toISOString()}&interval=${RANGES[range].interval}`).then((r) => r.data);
    },
  });
  const s = stats.data;
  return (
    <Page
      title="Dashboard"
      actions={
        <Select aria-label="Time range" value={range} onChange={(e) => setRange(e.target.value as keyof typeof RANGES)}>
          <option value="1h">Last hour</option>
          <option value="24h">Last 24 hours</option>
          <option value="7d">Last 7 days</option>
        </Select>
      }
    >
      {stats.isError && <p role="alert">{stats.error.message}</p>}
      {s && (
        <>
          <dl className="grid grid-cols-2 gap-3 sm:grid-cols-4">
            {[
              ['Requests', s.totals.requests.toLocaleString()],
              ['Error rate', `${(s.totals.errorRate * 100).toFixed(2)}%`],
              ['Executions', s.totals.executions.toLocaleString()],
              ['LLM tokens', s.totals.tokens.toLocaleString()],
            ].map(([k, v]) => (
              <div key={k} className="rounded-lg border border-zinc-200 p-4 dark:border-zinc-800">
                <dt className="text-xs text-zinc-600 dark:text-zinc-400">{k}</dt>
                <dd className="text-xl font-semibold">{v}</dd>
              </div>
            ))}
          </dl>
          <p className="text-xs text-zinc-600 dark:text-zinc-400" data-testid="live-counts">
            Since you opened this page: {since.created} record(s) created, {since.updated} updated, {since.deleted} deleted · {since.succeeded} execution(s)
            succeeded, {since.failed} failed.
          </p>
          <div className="grid gap-4 lg:grid-cols-2">
            <Chart title="Requests and server errors">
              <AreaChart data={s.requests}>
                {frame(40, true)}
                <Area type="monotone" dataKey="count" name="requests" stroke="#4f46e5" fill="#4f46e5" fillOpacity={0.2} isAnimationActive={false} />
                <Area type="monotone" dataKey="errors" name="5xx" stroke="#dc2626" fill="#dc2626" fillOpacity={0.3} isAnimationActive={false} />
              </AreaChart>
            </Chart>
            <Chart title="Latency (ms)">
              <LineChart data={s.requests}>
                {frame(40, false)}
                <Line type="monotone" dataKey="p50" stroke="#16a34a" dot={{ r: 2 }} connectNulls isAnimationActive={false} />
                <Line type="monotone" dataKey="p95" stroke="#d97706" dot={{ r: 2 }} connectNulls isAnimationActive={false} />
                <Line type="monotone" dataKey="p99" stroke="#dc2626" dot={{ r: 2 }} connectNulls isAnimationActive={false} />
              </LineChart>
            </Chart>
            <Chart title="Executions by status">
              <BarChart data={s.executions}>
                {frame(40, true)}
                <Bar dataKey="succeeded" stackId="e" fill="#16a34a" isAnimationActive={false} />
                <Bar dataKey="failed" stackId="e" fill="#dc2626" isAnimationActive={false} />
                <Bar dataKey="canceled" stackId="e" fill="#71717a" isAnimationActive={false} />
                <Bar dataKey="waiting" stackId="e" fill="#d97706" isAnimationActive={false} />
              </BarChart>
            </Chart>
            <Chart title="LLM tokens">
              <BarChart data={s.tokens}>
                {frame(50, true)}
                <Bar dataKey="input" stackId="k" fill="#4f46e5" isAnimationActive={false} />
                <Bar dataKey="output" stackId="k" fill="#a855f7" isAnimationActive={false} />
              </BarChart>
            </Chart>
          </div>
        </>
      )}
    </Page>
  );
}
