import { useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, type List, api } from '../../lib/api';
import { useToast } from '../../lib/toast';
import { Button, Empty, Modal, Page, ShownOnce, Table } from '../../components/ui';
import { DeliveryStatus, EnabledState, eventLabel, eventsOf, when } from './format';
import type { WebhookDelivery, WebhookSubscription } from './types';

const hostOf = (url: string) => {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
};
const message = (e: unknown, fallback: string) => (e instanceof ApiError ? e.message : fallback);

/** Each attempt of a delivery: when, the answer's status and time, and the first of its body (or why it failed). */
function Attempts({ d }: { d: WebhookDelivery }) {
  if (!d.attempts.length) return <p className="text-xs text-zinc-600 dark:text-zinc-400">Not attempted yet.</p>;
  return (
    <ol className="flex flex-col gap-2" aria-label="Attempts">
      {d.attempts.map((a) => (
        <li key={a.attempt} className="text-xs">
          <p>
            Attempt {a.attempt} · {when(a.at)} · {a.statusCode ?? 'no answer'} · {a.durationMs} ms{a.error ? ` · ${a.error}` : ''}
          </p>
          {a.responseExcerpt && <pre className="mt-1 max-h-40 overflow-auto rounded bg-zinc-100 p-2 dark:bg-zinc-900">{a.responseExcerpt}</pre>}
        </li>
      ))}
    </ol>
  );
}

/** The delivery log: one row per delivery, its attempts unfolded on demand, each redeliverable. */
function Deliveries({ rows, onRedeliver }: { rows: WebhookDelivery[]; onRedeliver: (d: WebhookDelivery) => Promise<void> }) {
  const [unfolded, setUnfolded] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  if (!rows.length) return <Empty>No deliveries yet. “Send test” sends one now.</Empty>;
  const last = (d: WebhookDelivery) => d.attempts.at(-1);
  return (
    <Table
      label="Deliveries"
      rows={rows}
      rowKey={(d) => d.id}
      columns={[
        { key: 'time', header: 'Time', cell: (d) => when(d.createdAt) },
        { key: 'event', header: 'Event', cell: (d) => eventLabel(d.eventType) },
        { key: 'status', header: 'Status', cell: (d) => <DeliveryStatus d={d} /> },
        { key: 'duration', header: 'Duration', cell: (d) => (last(d) ? `${last(d)!.durationMs} ms` : '—') },
        {
          key: 'attempts',
          header: 'Attempts',
          cell: (d) => (
            <button
              type="button"
              className="text-indigo-700 underline dark:text-indigo-300"
              aria-expanded={unfolded === d.id}
              onClick={() => setUnfolded(unfolded === d.id ? null : d.id)}
            >
              {d.attemptCount} attempt{d.attemptCount === 1 ? '' : 's'}
            </button>
          ),
        },
        {
          key: 'response',
          header: 'Response',
          cell: (d) => (
            <span className="font-mono text-xs" title={last(d)?.responseExcerpt ?? d.lastError ?? ''}>
              {last(d)?.responseExcerpt ?? d.lastError ?? '—'}
            </span>
          ),
        },
      ]}
      actions={(d) => (
        <Button
          variant="secondary"
          disabled={busy === d.id}
          onClick={() => {
            setBusy(d.id);
            void onRedeliver(d).finally(() => setBusy(null));
          }}
        >
          {busy === d.id ? 'Sending…' : 'Redeliver'}
        </Button>
      )}
      detail={(d) => unfolded === d.id && <Attempts d={d} />}
    />
  );
}

/** One subscription: what it sends where, its state, test / enable / delete, and the delivery log. */
export function WebhookDetail({ id, secret, onBack }: { id: string; secret: string | null; onBack: () => void }) {
  const client = useQueryClient();
  const toast = useToast();
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [testing, setTesting] = useState(false);
  const hook = useQuery({ queryKey: ['webhook', id], queryFn: () => api<{ data: WebhookSubscription }>('GET', `/webhooks/${id}`).then((r) => r.data) });
  const deliveriesKey = ['webhook-deliveries', id, 'log'];
  const deliveries = useQuery({
    queryKey: deliveriesKey,
    queryFn: () => api<List<WebhookDelivery>>('GET', `/webhooks/${id}/deliveries?limit=50`).then((r) => r.data),
  });

  /** A delivery the server answered with (after its attempt): into the log, replacing its older self. */
  const showDelivery = (d: WebhookDelivery) => {
    client.setQueryData<WebhookDelivery[]>(deliveriesKey, (xs) => [d, ...(xs ?? []).filter((x) => x.id !== d.id)]);
    client.setQueryData(['webhook-deliveries', id, 'last'], d);
    // Its state follows the attempt: the last success, or disabled by a 410 Gone.
    void client.invalidateQueries({ queryKey: ['webhook', id] });
    if (d.status !== 'delivered') void client.invalidateQueries({ queryKey: ['webhooks'] });
  };
  const sendTest = async () => {
    setTesting(true);
    try {
      const d = (await api<{ data: WebhookDelivery }>('POST', `/webhooks/${id}/test`, {})).data;
      showDelivery(d);
      toast(
        d.status === 'delivered' ? 'success' : 'error',
        d.status === 'delivered' ? `Test delivered (${d.lastStatusCode}).` : `Test ${d.status}: ${d.lastError ?? d.lastStatusCode ?? ''}`,
      );
    } catch (e) {
      toast('error', message(e, 'The test could not be sent.'));
    } finally {
      setTesting(false);
    }
  };
  const redeliver = async (d: WebhookDelivery) => {
    try {
      const r = (await api<{ data: WebhookDelivery }>('POST', `/webhooks/${id}/deliveries/${d.id}/redeliver`, {})).data;
      showDelivery(r);
      toast(r.status === 'delivered' ? 'success' : 'error', r.status === 'delivered' ? 'Redelivered.' : `Redelivery ${r.status}.`);
    } catch (e) {
      toast('error', message(e, 'Could not redeliver.'));
    }
  };
  const setEnabled = async (enabled: boolean) => {
    try {
      const w = (await api<{ data: WebhookSubscription }>('PATCH', `/webhooks/${id}`, { enabled })).data;
      client.setQueryData(['webhook', id], w);
      client.setQueryData<WebhookSubscription[]>(['webhooks'], (xs) => xs?.map((x) => (x.id === id ? w : x)));
      toast('success', enabled ? 'Enabled: events are delivered again.' : 'Disabled: nothing is delivered until it is enabled.');
    } catch (e) {
      toast('error', message(e, 'The change failed.'));
    }
  };
  const remove = async () => {
    try {
      await api('DELETE', `/webhooks/${id}`);
      client.setQueryData<WebhookSubscription[]>(['webhooks'], (xs) => xs?.filter((x) => x.id !== id));
      toast('success', 'Webhook deleted.');
      onBack();
    } catch (e) {
      toast('error', message(e, 'Could not delete.'));
    }
  };

  const w = hook.data;
  return (
    <Page
      title={w ? `Webhook · ${hostOf(w.url)}` : 'Webhook'}
      actions={
        <>
          <Button variant="ghost" onClick={onBack}>
            All webhooks
          </Button>
          {w && (
            <>
              <Button onClick={() => void sendTest()} disabled={testing || !w.enabled} title={w.enabled ? 'Sends a webhook.test event now' : 'Enable it first'}>
                {testing ? 'Sending…' : 'Send test'}
              </Button>
              <Button variant="secondary" onClick={() => void setEnabled(!w.enabled)}>
                {w.enabled ? 'Disable' : 'Enable'}
              </Button>
              <Button variant="danger" onClick={() => setConfirmDelete(true)}>
                Delete
              </Button>
            </>
          )}
        </>
      }
    >
      {hook.isError && <p role="alert">{hook.error.message}</p>}
      {secret && (
        <div className="flex flex-col gap-2">
          <ShownOnce title="Copy the signing secret now: it is not shown again." value={secret} onCopied={() => toast('success', 'Copied.')} />
          <p className="text-xs text-zinc-600 dark:text-zinc-400">
            Your receiver checks each delivery’s <code>webhook-signature</code> header with it (Standard Webhooks). Lost it? Delete this webhook and create a
            new one.
          </p>
        </div>
      )}
      {w && (
        <dl className="grid max-w-3xl grid-cols-[8rem_1fr] gap-x-4 gap-y-2 text-sm">
          <dt className="text-zinc-600 dark:text-zinc-400">URL</dt>
          <dd className="break-all font-mono" data-testid="webhook-url">
            {w.url}
          </dd>
          <dt className="text-zinc-600 dark:text-zinc-400">Events</dt>
          <dd>{eventsOf(w)}</dd>
          {w.filter && (
            <>
              <dt className="text-zinc-600 dark:text-zinc-400">Filter</dt>
              <dd>
                <code className="text-xs">{JSON.stringify(w.filter)}</code>
              </dd>
            </>
          )}
          {w.description && (
            <>
              <dt className="text-zinc-600 dark:text-zinc-400">Description</dt>
              <dd>{w.description}</dd>
            </>
          )}
          <dt className="text-zinc-600 dark:text-zinc-400">Status</dt>
          <dd data-testid="webhook-state">
            <EnabledState w={w} />
          </dd>
          <dt className="text-zinc-600 dark:text-zinc-400">Last success</dt>
          <dd>{when(w.lastSuccessAt)}</dd>
        </dl>
      )}
      <section className="flex flex-col gap-3" aria-label="Delivery log">
        <h2 className="text-lg font-semibold">Deliveries</h2>
        {deliveries.isError && <p role="alert">{deliveries.error.message}</p>}
        {deliveries.data && <Deliveries rows={deliveries.data} onRedeliver={redeliver} />}
      </section>
      {confirmDelete && w && (
        <Modal title="Delete this webhook?" onClose={() => setConfirmDelete(false)}>
          <p className="text-sm">
            Nothing more is sent to <code className="break-all">{w.url}</code>, and its delivery log goes with it. An integration that uses it stops receiving
            events. This cannot be undone.
          </p>
          <div className="mt-5 flex justify-end gap-2">
            <Button variant="secondary" onClick={() => setConfirmDelete(false)} autoFocus>
              Cancel
            </Button>
            <Button variant="danger" onClick={() => void remove()}>
              Delete webhook
            </Button>
          </div>
        </Modal>
      )}
    </Page>
  );
}
