import { type FormEvent, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, api } from '../../lib/api';
import { useToast } from '../../lib/toast';
import { Button, Field, Input, Page, Select, ShownOnce, Table } from '../../components/ui';

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
 * API keys for n8n, Make and Zapier: the key is shown once, with a copy button. A personal key
 * acts for its creator; a service-account key belongs to the organization.
 */
export function ApiKeys() {
  const client = useQueryClient();
  const toast = useToast();
  const keys = useQuery({ queryKey: ['api-keys'], queryFn: () => api<{ data: Key[] }>('GET', '/api-keys').then((r) => r.data) });
  const [name, setName] = useState('');
  const [role, setRole] = useState('editor');
  const [kind, setKind] = useState<Key['kind']>('personal');
  const [created, setCreated] = useState<string | null>(null);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const r = await api<{ data: { key: string } }>('POST', '/api-keys', { name, role, kind });
      setCreated(r.data.key);
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
      <form onSubmit={(e) => void create(e)} className="flex flex-wrap items-end gap-3" aria-label="New API key">
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
        <Field label="Kind" hint={KIND_HINTS[kind]}>
          {(id, d) => (
            <Select id={id} aria-describedby={d} value={kind} onChange={(e) => setKind(e.target.value as Key['kind'])}>
              <option value="personal">Personal</option>
              <option value="service">Service account</option>
            </Select>
          )}
        </Field>
        <Button type="submit">Create key</Button>
      </form>
      {created && <ShownOnce title="Copy this key now: it is not shown again." value={created} onCopied={() => toast('success', 'Copied.')} />}
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
    </Page>
  );
}
