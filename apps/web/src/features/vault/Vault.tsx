import { type FormEvent, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, api } from '../../lib/api';
import { useAuth } from '../../lib/auth';
import { useToast } from '../../lib/toast';
import { Button, Empty, Field, Input, Page, Select, Table } from '../../components/ui';

interface Secret {
  id: string;
  name: string;
  provider: string;
  baseUrl: string | null;
  allowedHosts: string[];
  hint: string;
  createdAt: string;
}

const PROVIDERS = ['openai', 'anthropic', 'google', 'openai-compatible', 'stripe', 'github', 'slack', 'smtp', 'generic'];

/** "api.example.com, *.example.org" → ["api.example.com", "*.example.org"]. */
const hostList = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((h) => h.trim())
    .filter(Boolean);

/** Field errors of the API, with any problem of an allowedHosts entry ("allowedHosts.1") on the one input. */
function formErrors(err: ApiError): Record<string, string> {
  const out = err.fieldErrors();
  const hosts = Object.entries(out).find(([k]) => /(^|\.)allowedHosts(\.|$)/.test(k));
  if (hosts) out.allowedHosts = hosts[1];
  if (err.code === 'VAULT_SECRET_HOSTS_REQUIRED') out.allowedHosts = 'Name the hosts this secret may be sent to.';
  return out;
}

/** Where a secret may be sent: shown to everyone who sees the vault, edited by admins in place. */
function AllowedHosts({ secret, manage }: { secret: Secret; manage: boolean }) {
  const client = useQueryClient();
  const toast = useToast();
  const [editing, setEditing] = useState<string | null>(null);
  const [error, setError] = useState<string | undefined>();
  const save = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await api('PATCH', `/secrets/${secret.id}`, { allowedHosts: hostList(editing ?? '') });
      setEditing(null);
      setError(undefined);
      toast('success', 'Allowed hosts saved.');
      await client.invalidateQueries({ queryKey: ['secrets'] });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      setError(formErrors(err).allowedHosts ?? err.message);
    }
  };
  if (editing === null) {
    return (
      <span className="flex items-center gap-2">
        <span>{secret.allowedHosts.length ? secret.allowedHosts.join(', ') : <em>none</em>}</span>
        {manage && (
          <Button variant="ghost" aria-label={`Edit allowed hosts of ${secret.name}`} onClick={() => setEditing(secret.allowedHosts.join(', '))}>
            Edit
          </Button>
        )}
      </span>
    );
  }
  return (
    <form onSubmit={(e) => void save(e)} className="flex items-end gap-2" aria-label={`Allowed hosts of ${secret.name}`} noValidate>
      <Field label="Allowed hosts" error={error}>
        {(id, d) => (
          <Input id={id} aria-describedby={d} value={editing} onChange={(e) => setEditing(e.target.value)} placeholder="api.example.com, *.example.org" />
        )}
      </Field>
      <Button type="submit">Save</Button>
      <Button type="button" variant="ghost" onClick={() => setEditing(null)}>
        Cancel
      </Button>
    </form>
  );
}

/**
 * Third-party keys, encrypted on the server: values go in, never come back (a masked hint only).
 * Each secret goes only to its allowed hosts; a provider's own host is the default, a generic
 * secret must name its hosts (empty: never sent, e.g. a webhook signing secret).
 */
export function Vault() {
  const { atLeast } = useAuth();
  const manage = atLeast('admin');
  const client = useQueryClient();
  const toast = useToast();
  const secrets = useQuery({ queryKey: ['secrets'], queryFn: () => api<{ data: Secret[] }>('GET', '/secrets').then((r) => r.data) });
  const [form, setForm] = useState({ name: '', provider: 'openai', value: '', baseUrl: '', allowedHosts: '' });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm((f) => ({ ...f, [k]: e.target.value }));

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setErrors({});
    try {
      const hosts = hostList(form.allowedHosts);
      // Left empty: the provider's defaults; for a generic secret, explicitly none (the hint says so).
      const allowedHosts = hosts.length || form.provider === 'generic' ? { allowedHosts: hosts } : {};
      await api('POST', '/secrets', {
        name: form.name,
        provider: form.provider,
        value: form.value,
        ...(form.baseUrl ? { baseUrl: form.baseUrl } : {}),
        ...allowedHosts,
      });
      setForm({ name: '', provider: form.provider, value: '', baseUrl: '', allowedHosts: '' });
      toast('success', 'Secret stored.');
      await client.invalidateQueries({ queryKey: ['secrets'] });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      setErrors(formErrors(err));
      toast('error', err.message);
    }
  };

  const remove = (id: string) =>
    api('DELETE', `/secrets/${id}`).then(
      () => client.invalidateQueries({ queryKey: ['secrets'] }),
      (err: unknown) => toast('error', err instanceof ApiError ? err.message : 'Could not delete.'),
    );

  return (
    <Page title="Vault">
      {manage && (
        <form
          onSubmit={(e) => void create(e)}
          className="flex flex-wrap items-end gap-3 rounded-lg border border-zinc-200 p-4 dark:border-zinc-800"
          aria-label="New secret"
          noValidate
        >
          <Field label="Secret name" error={errors.name}>
            {(id, d) => <Input id={id} aria-describedby={d} value={form.name} onChange={set('name')} />}
          </Field>
          <Field label="Provider">
            {(id) => (
              <Select id={id} value={form.provider} onChange={set('provider')}>
                {PROVIDERS.map((p) => (
                  <option key={p}>{p}</option>
                ))}
              </Select>
            )}
          </Field>
          <Field label="Value" error={errors.value}>
            {(id, d) => <Input id={id} type="password" autoComplete="off" aria-describedby={d} value={form.value} onChange={set('value')} />}
          </Field>
          <Field label="Base URL (optional)" error={errors.baseUrl}>
            {(id, d) => <Input id={id} aria-describedby={d} value={form.baseUrl} onChange={set('baseUrl')} placeholder="http://localhost:11434/v1" />}
          </Field>
          <Field
            label="Allowed hosts"
            error={errors.allowedHosts}
            hint={
              form.provider === 'generic'
                ? 'Hosts it may be sent to, comma-separated; empty: never sent (a webhook signing secret).'
                : 'Empty: the provider’s API host and the base URL’s host.'
            }
          >
            {(id, d) => (
              <Input id={id} aria-describedby={d} value={form.allowedHosts} onChange={set('allowedHosts')} placeholder="api.example.com, *.example.org" />
            )}
          </Field>
          <Button type="submit">Store secret</Button>
        </form>
      )}
      {secrets.isError && <p role="alert">{secrets.error.message}</p>}
      {secrets.data?.length === 0 && <Empty>No secrets yet.</Empty>}
      {Boolean(secrets.data?.length) && (
        <Table
          rows={secrets.data!}
          rowKey={(s) => s.id}
          columns={[
            { key: 'name', header: 'Name', cell: (s) => s.name },
            { key: 'provider', header: 'Provider', cell: (s) => s.provider },
            { key: 'hint', header: 'Value', cell: (s) => <code>{s.hint}</code> },
            { key: 'url', header: 'Base URL', cell: (s) => s.baseUrl ?? '' },
            { key: 'hosts', header: 'Allowed hosts', cell: (s) => <AllowedHosts secret={s} manage={manage} /> },
          ]}
          actions={
            manage
              ? (s) => (
                  <Button variant="ghost" aria-label={`Delete secret ${s.name}`} onClick={() => void remove(s.id)}>
                    Delete
                  </Button>
                )
              : undefined
          }
        />
      )}
    </Page>
  );
}
