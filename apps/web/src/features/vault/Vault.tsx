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
  hint: string;
  createdAt: string;
}

const PROVIDERS = ['openai', 'anthropic', 'google', 'openai-compatible', 'stripe', 'github', 'slack', 'smtp', 'generic'];

/** Third-party keys, encrypted on the server: values go in, never come back (a masked hint only). */
export function Vault() {
  const { atLeast } = useAuth();
  const manage = atLeast('admin');
  const client = useQueryClient();
  const toast = useToast();
  const secrets = useQuery({ queryKey: ['secrets'], queryFn: () => api<{ data: Secret[] }>('GET', '/secrets').then((r) => r.data) });
  const [form, setForm] = useState({ name: '', provider: 'openai', value: '', baseUrl: '' });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm((f) => ({ ...f, [k]: e.target.value }));

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setErrors({});
    try {
      await api('POST', '/secrets', { name: form.name, provider: form.provider, value: form.value, ...(form.baseUrl ? { baseUrl: form.baseUrl } : {}) });
      setForm({ name: '', provider: form.provider, value: '', baseUrl: '' });
      toast('success', 'Secret stored.');
      await client.invalidateQueries({ queryKey: ['secrets'] });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      setErrors(err.fieldErrors());
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
        <form onSubmit={(e) => void create(e)} className="flex flex-wrap items-end gap-3 rounded-lg border border-zinc-200 p-4 dark:border-zinc-800" aria-label="New secret" noValidate>
          <Field label="Secret name" error={errors.name}>{(id, d) => <Input id={id} aria-describedby={d} value={form.name} onChange={set('name')} />}</Field>
          <Field label="Provider">
            {(id) => (
              <Select id={id} value={form.provider} onChange={set('provider')}>
                {PROVIDERS.map((p) => (
                  <option key={p}>{p}</option>
                ))}
              </Select>
            )}
          </Field>
          <Field label="Value" error={errors.value}>{(id, d) => <Input id={id} type="password" autoComplete="off" aria-describedby={d} value={form.value} onChange={set('value')} />}</Field>
          <Field label="Base URL (optional)" error={errors.baseUrl}>{(id, d) => <Input id={id} aria-describedby={d} value={form.baseUrl} onChange={set('baseUrl')} placeholder="http://localhost:11434/v1" />}</Field>
          <Button type="submit">Store secret</Button>
        </form>
      )}
      {secrets.isError && <p role="alert">{(secrets.error).message}</p>}
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
