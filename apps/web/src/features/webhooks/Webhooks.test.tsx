// @vitest-environment jsdom
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { MemoryRouter, Route, Routes } from 'react-router';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ToastProvider } from '../../lib/toast';
import { Webhooks } from './Webhooks';
import type { WebhookDelivery, WebhookSubscription } from './types';

/** The webhooks API as the server answers it, in memory: what the screen sends is recorded. */
function fakeServer() {
  const hooks: WebhookSubscription[] = [];
  const deliveries: WebhookDelivery[] = [];
  const calls: string[] = [];
  const json = (status: number, body: unknown) =>
    new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const delivery = (webhookId: string, attempt: number, id = `d${deliveries.length + 1}`): WebhookDelivery => ({
    id,
    webhookId,
    eventId: 'ev1',
    eventType: 'webhook.test',
    status: 'delivered',
    attemptCount: attempt,
    nextAttemptAt: null,
    lastStatusCode: 200,
    lastError: null,
    createdAt: '2026-12-07T10:00:00.000Z',
    updatedAt: '2026-12-07T10:00:00.000Z',
    attempts: Array.from({ length: attempt }, (_, i) => ({
      attempt: i + 1,
      statusCode: 200,
      durationMs: 12,
      responseExcerpt: 'ok',
      error: null,
      at: '2026-12-07T10:00:00.000Z',
    })),
  });
  const handle = async (method: string, path: string, body: Record<string, unknown> | undefined): Promise<Response> => {
    const list = (data: unknown[]) => json(200, { data, meta: { total: data.length, limit: 50, offset: 0, nextCursor: null } });
    if (method === 'GET' && path === '/api/v1/models') return json(200, { data: [{ name: 'orders', label: 'Orders', fields: [] }] });
    if (method === 'GET' && path.startsWith('/api/v1/webhooks?')) return list(hooks);
    if (method === 'POST' && path === '/api/v1/webhooks') {
      if (JSON.stringify(body?.filter ?? null).includes('"foo"'))
        return json(400, { error: { code: 'WEBHOOK_FILTER_INVALID', message: 'Unknown operator "foo" on total.', details: null } });
      const w: WebhookSubscription = {
        id: 'w1',
        url: String(body?.url),
        events: body?.events as string[],
        model: (body?.model as string | undefined) ?? null,
        filter: (body?.filter as Record<string, unknown> | undefined) ?? null,
        description: null,
        enabled: true,
        disabledReason: null,
        createdBy: { type: 'user', id: 'u1' },
        lastSuccessAt: null,
        createdAt: '2026-12-07T10:00:00.000Z',
        updatedAt: '2026-12-07T10:00:00.000Z',
      };
      hooks.push(w);
      return json(201, { data: { ...w, secret: 'whsec_c2VjcmV0' } });
    }
    const m = /^\/api\/v1\/webhooks\/(w\d+)(\/.*)?$/.exec(path.split('?')[0]!);
    const w = m && hooks.find((h) => h.id === m[1]);
    if (!m || !w) return json(404, { error: { code: 'WEBHOOK_SUBSCRIPTION_NOT_FOUND', message: 'No such webhook.', details: null } });
    const rest = m[2] ?? '';
    if (method === 'GET' && rest === '') return json(200, { data: w });
    if (method === 'PATCH' && rest === '') {
      Object.assign(w, body, { disabledReason: body?.enabled === false ? 'disabled by an admin' : null });
      return json(200, { data: w });
    }
    if (method === 'DELETE' && rest === '') {
      hooks.splice(hooks.indexOf(w), 1);
      return json(204, null);
    }
    if (method === 'GET' && rest === '/deliveries') return list(deliveries.filter((d) => d.webhookId === w.id));
    if (method === 'POST' && rest === '/test') {
      const d = delivery(w.id, 1);
      deliveries.unshift(d);
      return json(200, { data: d });
    }
    const re = /^\/deliveries\/(d\d+)\/redeliver$/.exec(rest);
    if (method === 'POST' && re) {
      const old = deliveries.find((d) => d.id === re[1])!;
      const d = delivery(w.id, old.attemptCount + 1, old.id);
      deliveries.splice(deliveries.indexOf(old), 1, d);
      return json(200, { data: d });
    }
    return json(404, { error: { code: 'NOT_FOUND', message: `${method} ${path}`, details: null } });
  };
  // The UI calls fetch with a path string and a JSON string body.
  const fetch = vi.fn(async (input: string, init?: { method?: string; body?: string }) => {
    const method = init?.method ?? 'GET';
    calls.push(`${method} ${input}`);
    return handle(method, input, init?.body ? (JSON.parse(init.body) as Record<string, unknown>) : undefined);
  });
  return { fetch, calls, hooks };
}

function renderAt(path: string) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <ToastProvider>
        <MemoryRouter initialEntries={[path]}>
          <Routes>
            <Route path="/webhooks" element={<Webhooks />} />
          </Routes>
        </MemoryRouter>
      </ToastProvider>
    </QueryClientProvider>,
  );
}

beforeEach(() => {
  // jsdom has <dialog> without its modal behaviour.
  HTMLDialogElement.prototype.showModal = function (this: HTMLDialogElement) {
    this.setAttribute('open', '');
  };
  HTMLDialogElement.prototype.close = function (this: HTMLDialogElement) {
    this.removeAttribute('open');
  };
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('webhooks screen', () => {
  it('creates a webhook (filter errors shown under the filter), shows the secret once, sends a test, redelivers, disables and deletes', async () => {
    const server = fakeServer();
    vi.stubGlobal('fetch', server.fetch);
    renderAt('/webhooks');
    await screen.findByText(/No webhooks yet/);

    fireEvent.click(screen.getByRole('button', { name: 'New webhook' }));
    const form = await screen.findByRole('form', { name: 'New webhook' });
    const create = within(form).getByRole('button', { name: 'Create webhook' });
    expect(create).toHaveProperty('disabled', true);
    fireEvent.change(within(form).getByLabelText('URL'), { target: { value: 'https://hooks.example.com/in' } });
    fireEvent.click(within(form).getByRole('checkbox', { name: /Record created/ }));
    // A record event asks for a model; the choice comes from the organization's models.
    await within(form).findByRole('option', { name: 'Orders' });
    fireEvent.change(within(form).getByLabelText('Model'), { target: { value: 'orders' } });
    const filter = within(form).getByLabelText('Filter (optional)');
    fireEvent.change(filter, { target: { value: '{"total": ' } });
    fireEvent.click(create);
    await within(form).findByText(/Not valid JSON/);
    expect(server.calls.filter((c) => c === 'POST /api/v1/webhooks')).toHaveLength(0);
    // The server's 4xx about the filter lands under the filter.
    fireEvent.change(filter, { target: { value: '{"total": {"foo": 1}}' } });
    fireEvent.click(create);
    await within(form).findByText('Unknown operator "foo" on total.');
    expect(filter.getAttribute('aria-invalid')).toBe('true');
    fireEvent.change(filter, { target: { value: '{"total": {"gt": 100}}' } });
    fireEvent.click(create);

    // The secret, once, on the new webhook's page.
    expect((await screen.findByTestId('shown-once')).textContent).toBe('whsec_c2VjcmV0');
    screen.getByText(/not shown again/);
    expect(server.hooks[0]).toMatchObject({ events: ['record.created'], model: 'orders', filter: { total: { gt: 100 } } });
    await screen.findByText(/No deliveries yet/);

    fireEvent.click(screen.getByRole('button', { name: 'Send test' }));
    const log = await screen.findByRole('region', { name: 'Deliveries' });
    expect(within(log).getByTestId('delivery-status').textContent).toBe('delivered · 200');
    fireEvent.click(within(log).getByRole('button', { name: 'Redeliver' }));
    // The attempts unfold with their answers.
    fireEvent.click(await within(log).findByRole('button', { name: '2 attempts' }));
    expect(within(screen.getByRole('list', { name: 'Attempts' })).getAllByRole('listitem')).toHaveLength(2);

    fireEvent.click(screen.getByRole('button', { name: 'Disable' }));
    await waitFor(() => expect(screen.getByTestId('webhook-state').textContent).toBe('Disabled: disabled by an admin'));
    expect(screen.getByRole('button', { name: 'Send test' })).toHaveProperty('disabled', true);

    fireEvent.click(screen.getByRole('button', { name: 'Delete' }));
    const confirm = await screen.findByRole('dialog', { name: 'Delete this webhook?' });
    fireEvent.click(within(confirm).getByRole('button', { name: 'Delete webhook' }));
    await screen.findByText(/No webhooks yet/);
    // Leaving the page forgets the secret: it is nowhere on screen any more.
    expect(screen.queryByTestId('shown-once')).toBeNull();
    expect(server.calls).toContain('DELETE /api/v1/webhooks/w1');
  });
});
