// @vitest-environment jsdom
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ToastProvider } from '../../lib/toast';
import { ApiKeys } from './ApiKeys';

const KEY = 'inf_live_0123456789abcdefghijklmnopqrstuv';

/** The API-keys routes as the server answers them, in memory; what the screen sends is recorded. */
function fakeServer() {
  const keys: { id: string; name: string; prefix: string; role: string; kind: string }[] = [];
  const posted: unknown[] = [];
  const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const fetch = vi.fn(async (input: string, init?: { method?: string; body?: string }) => {
    const method = init?.method ?? 'GET';
    if (method === 'GET' && input === '/api/v1/api-keys')
      return json(200, { data: keys.map((k) => ({ ...k, createdBy: 'u1', createdByName: 'Ada', createdAt: '2026-12-08T00:00:00.000Z', lastUsedAt: null })) });
    if (method === 'POST' && input === '/api/v1/api-keys') {
      const body = JSON.parse(init!.body!) as { name: string; role: string; kind: string };
      posted.push(body);
      keys.push({ id: 'k1', name: body.name, prefix: KEY.slice(0, 12), role: body.role, kind: body.kind });
      return json(201, { data: { id: 'k1', key: KEY, prefix: KEY.slice(0, 12), role: body.role } });
    }
    return json(404, { error: { code: 'NOT_FOUND', message: `${method} ${input}`, details: null } });
  });
  return { fetch, posted };
}

function renderKeys() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={client}>
      <ToastProvider>
        <ApiKeys />
      </ToastProvider>
    </QueryClientProvider>,
  );
  return client;
}

const snippet = (id: string) => screen.getByTestId(`snippet-${id}`).textContent;
let writeText: ReturnType<typeof vi.fn<(text: string) => Promise<void>>>;

beforeEach(() => {
  writeText = vi.fn<(text: string) => Promise<void>>(async () => undefined);
  Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  localStorage.clear();
  sessionStorage.clear();
});

describe('API keys screen', () => {
  it('shows a new key once with every integration’s snippets filled in, copies them, and forgets the key on Done', async () => {
    const server = fakeServer();
    vi.stubGlobal('fetch', server.fetch);
    const client = renderKeys();
    const origin = location.origin;
    await waitFor(() => expect(client.getQueryState(['api-keys'])?.status).toBe('success'));

    // Before any key: the snippets are there, with a placeholder.
    screen.getByText(/No API keys yet/);
    expect(snippet('n8n-api-key')).toBe('YOUR_API_KEY');
    expect(snippet('n8n-base-url')).toBe(origin);

    const form = screen.getByRole('form', { name: 'New API key' });
    fireEvent.change(within(form).getByLabelText('Name'), { target: { value: 'n8n' } });
    fireEvent.change(within(form).getByLabelText('Role'), { target: { value: 'admin' } });
    fireEvent.change(within(form).getByLabelText('Kind'), { target: { value: 'service' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Create key' }));

    const reveal = await screen.findByRole('region', { name: /Key “n8n” \(admin\) created\. Copy it now: it is not shown again\./ });
    expect(server.posted).toEqual([{ name: 'n8n', role: 'admin', kind: 'service' }]);
    expect(within(reveal).getByTestId('shown-once').textContent).toBe(KEY);
    // Focus moves to the new key.
    expect(document.activeElement).toBe(reveal);
    await screen.findByRole('cell', { name: 'n8n' });

    // n8n (the first tab): install, then the credential's two fields.
    const tabs = within(reveal).getAllByRole('tab');
    expect(tabs.map((t) => t.textContent)).toEqual(['n8n', 'Zapier / Make', 'MCP clients', 'curl']);
    expect(tabs[0]!.getAttribute('aria-selected')).toBe('true');
    expect(within(reveal).getByRole('tabpanel').getAttribute('aria-labelledby')).toBe(tabs[0]!.id);
    expect(snippet('n8n-install')).toContain('mkdir -p ~/.n8n/custom');
    expect(snippet('n8n-install')).toContain('npm install --legacy-peer-deps');
    within(reveal).getByText(/credential “Infinity API”/);
    expect(snippet('n8n-base-url')).toBe(origin);
    expect(snippet('n8n-api-key')).toBe(KEY);

    fireEvent.click(within(reveal).getByRole('button', { name: 'Copy key' }));
    await waitFor(() => expect(writeText).toHaveBeenLastCalledWith(KEY));
    await screen.findByText('Copied the key.');

    // Zapier / Make: the connection's base URL and key.
    fireEvent.click(tabs[1]!);
    expect(tabs[1]!.getAttribute('aria-selected')).toBe('true');
    expect(snippet('infinity-url')).toBe(origin);
    expect(snippet('api-key')).toBe(KEY);
    fireEvent.click(within(reveal).getByRole('button', { name: 'Copy Infinity URL' }));
    await waitFor(() => expect(writeText).toHaveBeenLastCalledWith(origin));

    // MCP clients, reached with the keyboard (arrow keys move between tabs, focus follows).
    fireEvent.keyDown(tabs[1]!, { key: 'ArrowRight' });
    expect(tabs[2]!.getAttribute('aria-selected')).toBe('true');
    expect(document.activeElement).toBe(tabs[2]);
    expect(tabs.map((t) => t.tabIndex)).toEqual([-1, -1, 0, -1]);
    const claudeCode = `claude mcp add --transport http infinity ${origin}/api/v1/mcp \\\n  --header "X-API-Key: ${KEY}"`;
    expect(snippet('claude-code')).toBe(claudeCode);
    expect(JSON.parse(snippet('mcp-json'))).toEqual({ mcpServers: { infinity: { url: `${origin}/api/v1/mcp`, headers: { 'X-API-Key': KEY } } } });
    expect(JSON.parse(snippet('claude-desktop'))).toEqual({
      mcpServers: {
        infinity: { command: 'node', args: ['/path/to/infinity/apps/server/dist/cli.js', 'mcp', '--url', origin], env: { INFINITY_API_KEY: KEY } },
      },
    });
    expect(within(reveal).getByText('infinity mcp').tagName).toBe('CODE');
    fireEvent.click(within(reveal).getByRole('button', { name: 'Copy Claude Code' }));
    await waitFor(() => expect(writeText).toHaveBeenLastCalledWith(claudeCode));
    await screen.findByText('Copied Claude Code.');

    // End wraps to curl, Home back to n8n.
    fireEvent.keyDown(tabs[2]!, { key: 'End' });
    expect(snippet('curl-me')).toBe(`curl -H "X-API-Key: ${KEY}" ${origin}/api/v1/me`);
    fireEvent.keyDown(tabs[3]!, { key: 'ArrowRight' });
    expect(tabs[0]!.getAttribute('aria-selected')).toBe('true');
    fireEvent.keyDown(tabs[0]!, { key: 'ArrowLeft' });
    expect(tabs[3]!.getAttribute('aria-selected')).toBe('true');

    // Without a clipboard the text is selected for Ctrl+C, and the screen says so.
    writeText.mockRejectedValueOnce(new Error('denied'));
    fireEvent.click(within(reveal).getByRole('button', { name: 'Copy curl' }));
    await screen.findByText(/Could not copy: the text is selected/);
    expect(getSelection()?.toString()).toBe(`curl -H "X-API-Key: ${KEY}" ${origin}/api/v1/me`);

    // Done: the key is gone from the page and was never stored; the snippets show the placeholder.
    fireEvent.click(within(reveal).getByRole('button', { name: 'Done' }));
    expect(screen.queryByRole('region', { name: /created/ })).toBeNull();
    expect(document.body.innerHTML).not.toContain(KEY);
    expect(snippet('n8n-api-key')).toBe('YOUR_API_KEY');
    expect(JSON.stringify({ ...localStorage })).not.toContain(KEY);
    expect(JSON.stringify({ ...sessionStorage })).not.toContain(KEY);
    expect(document.cookie).not.toContain(KEY);
  });
});
