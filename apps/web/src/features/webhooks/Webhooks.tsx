import { useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useSearchParams } from 'react-router';
import { type List, api } from '../../lib/api';
import { useToast } from '../../lib/toast';
import { Button, Empty, Page, Table } from '../../components/ui';
import { DeliveryStatus, EnabledState, eventsOf, when } from './format';
import { NewWebhook } from './NewWebhook';
import { WebhookDetail } from './WebhookDetail';
import type { WebhookDelivery, WebhookSubscription } from './types';

/** The newest delivery of a subscription, for the list. */
function LastDelivery({ id }: { id: string }) {
  const last = useQuery({
    queryKey: ['webhook-deliveries', id, 'last'],
    queryFn: () => api<List<WebhookDelivery>>('GET', `/webhooks/${id}/deliveries?limit=1`).then((r) => r.data[0] ?? null),
  });
  if (!last.data) return <span className="text-zinc-600 dark:text-zinc-400">{last.isPending ? '…' : 'none yet'}</span>;
  return (
    <span className="flex items-center gap-2">
      <DeliveryStatus d={last.data} />
      <span className="text-xs text-zinc-600 dark:text-zinc-400">{when(last.data.createdAt)}</span>
    </span>
  );
}

/**
 * Outbound webhooks (REST hooks) for n8n, Zapier, Make or any receiver: the subscriptions with
 * their state and last delivery; one opens (`?open=`) with its delivery log; `?new=1` creates one.
 * The signing secret is shown once, right after creating.
 */
export function Webhooks() {
  const [params, setParams] = useSearchParams();
  const client = useQueryClient();
  const toast = useToast();
  const open = params.get('open');
  const creating = params.get('new') === '1';
  // The secret of the subscription just created: only in this page's memory, gone once left.
  const [created, setCreated] = useState<{ id: string; secret: string } | null>(null);
  const list = useQuery({ queryKey: ['webhooks'], queryFn: () => api<List<WebhookSubscription>>('GET', '/webhooks?limit=100').then((r) => r.data) });
  const go = (next: { open?: string; new?: '1' } | null) => setParams(next ?? {});

  const dialog = creating && (
    <NewWebhook
      onClose={() => go(open ? { open } : null)}
      onCreated={(w) => {
        const { secret, ...sub } = w;
        client.setQueryData<WebhookSubscription[]>(['webhooks'], (xs) => [sub, ...(xs ?? [])]);
        setCreated({ id: w.id, secret });
        toast('success', 'Webhook created.');
        go({ open: w.id });
      }}
    />
  );

  if (open)
    return (
      <>
        <WebhookDetail id={open} secret={created?.id === open ? created.secret : null} onBack={() => (setCreated(null), go(null))} />
        {dialog}
      </>
    );
  return (
    <Page title="Webhooks" actions={<Button onClick={() => go({ new: '1' })}>New webhook</Button>}>
      <p className="max-w-3xl text-sm text-zinc-600 dark:text-zinc-400">
        Infinity sends a signed POST to each URL when its events happen: records created, updated or deleted, executions finished, usage alerts. Use it as the
        instant trigger of n8n, Zapier or Make, or from your own service.
      </p>
      {list.isError && <p role="alert">{list.error.message}</p>}
      {list.data && list.data.length === 0 ? (
        <Empty>
          No webhooks yet.{' '}
          <button type="button" className="text-indigo-700 underline dark:text-indigo-300" onClick={() => go({ new: '1' })}>
            Create the first one
          </button>
          .
        </Empty>
      ) : (
        <Table
          label="Webhooks"
          rows={list.data ?? []}
          rowKey={(w) => w.id}
          columns={[
            {
              key: 'url',
              header: 'URL',
              cell: (w) => (
                <button
                  type="button"
                  className="text-left text-indigo-700 hover:underline dark:text-indigo-300"
                  onClick={() => go({ open: w.id })}
                  title={w.url}
                >
                  {w.url}
                  {w.description && <span className="block text-xs text-zinc-600 dark:text-zinc-400">{w.description}</span>}
                </button>
              ),
            },
            { key: 'events', header: 'Events', cell: (w) => <span title={eventsOf(w)}>{eventsOf(w)}</span> },
            { key: 'status', header: 'Status', cell: (w) => <EnabledState w={w} /> },
            { key: 'last', header: 'Last delivery', cell: (w) => <LastDelivery id={w.id} /> },
          ]}
          actions={(w) => (
            <Button variant="ghost" onClick={() => go({ open: w.id })} aria-label={`Open ${w.url}`}>
              Deliveries
            </Button>
          )}
        />
      )}
      {dialog}
    </Page>
  );
}
