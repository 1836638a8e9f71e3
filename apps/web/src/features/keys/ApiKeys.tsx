import { type FormEvent, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, api } from '../../lib/api';
import { useToast } from '../../lib/toast';
import { Button, Empty, Field, Input, Page, Select, Table } from '../../components/ui';
import { IntegrationSnippets } from './IntegrationSnippets';
import { KeyReveal } from './KeyReveal';
import { KEY_PLACEHOLDER } from './snippets';

interface Key {
  id: string;
  name: string;
  prefix: string;
  role: string;
  kind: 'personal' | 'service';
  createdBy: string | null;
  createdByName: string | null;
  createdAt: string;
  lastUsedAt: string | null;
}

const KIND_HINTS = {
  personal: 'Acts as you: never above your current role, and stops working if you leave the organization.',
  service: 'A service account of the organization: keeps its role and keeps working when you leave. For integrations.',
} as const;

/**
 * API keys for n8n, Make, Zapier and MCP clients: a new key is shown once, with a copy button and
 * each integration's snippets filled in with it. A personal key acts for its creator; a
 * service-account key belongs to the organization.
 */
export function ApiKeys() {
  const client = useQueryClient();
  const toast = useToast();
  const keys = useQuery({ queryKey: ['api-keys'], queryFn: () => api<{ data: Key[] }>('GET', '/api-keys').then((r) => r.data) });
  const [name, setName] = useState('');
  const [role, setRole] = useState('editor');
  const [kind, setKind] = useState<Key['kind']>('personal');
  // NB: the new key lives only here, in memory, until Done (or leaving the page): never in the
  // query cache nor in any storage. After that the snippets show a placeholder.
  const [created, setCreated] = useState<{ key: string; name: string; role: string } | null>(null);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const r = await api<{ data: { key: string; role: string } }>('POST', '/api-keys', { name, role, kind });
      setCreated({ key: r.data.key, name, role: r.data.role });
      setName('');
      await client.invalidateQueries({ queryKey: ['api-keys'] });
    } catch (err) {
      toast('error', err instanceof ApiError ? err.message : 'Could not create the key.');
    }
  };
  const revoke = async (id: string) => {
    await api('DELETE', `/api-keys/${id}`).catch((err: unknown) => toast('error', err instanceof ApiError ? err.message : 'Could not revoke.'));
    await client.invalidateQueries({ queryKey: ['api-keys'] });
  };

  return (
    <Page title="API keys">
      {keys.isError && <p role="alert">{keys.error.message}</p>}
      <form onSubmit={(e) => void create(e)} className="flex flex-wrap items-start gap-3" aria-label="New API key">
        <Field label="Name">{(id) => <Input id={id} value={name} onChange={(e) => setName(e.target.value)} required />}</Field>
        <Field label="Role">
          {(id) => (
            <Select id={id} value={role} onChange={(e) => setRole(e.target.value)}>
              {['viewer', 'editor', 'admin'].map((r) => (
                <option key={r}>{r}</option>
              ))}
            </Select>
          )}
        </Field>
        {/* Narrow, so the hint wraps under the select instead of stretching it. */}
        <div className="w-72">
          <Field label="Kind" hint={KIND_HINTS[kind]}>
            {(id, d) => (
              <Select id={id} aria-describedby={d} value={kind} onChange={(e) => setKind(e.target.value as Key['kind'])}>
                <option value="personal">Personal</option>
                <option value="service">Service account</option>
              </Select>
            )}
          </Field>
        </div>
        {/* Level with the inputs, below the labels. */}
        <Button type="submit" className="mt-6">
          Create key
        </Button>
      </form>
      {created && <KeyReveal apiKey={created.key} name={created.name} role={created.role} onDone={() => setCreated(null)} />}
      {keys.data?.length === 0 ? (
        <Empty>No API keys yet. Create one for each integration, so each can be revoked alone.</Empty>
      ) : (
        <Table
          rows={keys.data ?? []}
          rowKey={(k) => k.id}
          columns={[
            { key: 'name', header: 'Name', cell: (k) => k.name },
            { key: 'prefix', header: 'Prefix', cell: (k) => <code>{k.prefix}…</code> },
            { key: 'role', header: 'Role', cell: (k) => k.role },
            { key: 'kind', header: 'Kind', cell: (k) => (k.kind === 'service' ? 'Service account' : 'Personal') },
            { key: 'creator', header: 'Created by', cell: (k) => k.createdByName ?? '—' },
            { key: 'used', header: 'Last used', cell: (k) => (k.lastUsedAt ? new Date(k.lastUsedAt).toLocaleString() : 'never') },
          ]}
          actions={(k) => (
            <Button variant="ghost" onClick={() => void revoke(k.id)} aria-label={`Revoke ${k.name}`}>
              Revoke
            </Button>
          )}
        />
      )}
      {!created && (
        <details className="rounded-lg border border-zinc-200 p-4 dark:border-zinc-800">
          <summary className="cursor-pointer font-semibold">Connect n8n, Zapier, Make, an MCP client or curl</summary>
          <p className="mt-2 mb-3 text-sm text-zinc-600 dark:text-zinc-400">
            Replace {KEY_PLACEHOLDER} with a key: a new key is filled in for you, once, when you create it.
          </p>
          <IntegrationSnippets apiKey={null} />
        </details>
      )}
    </Page>
  );
}
