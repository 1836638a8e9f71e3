import { type FormEvent, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, api } from '../../lib/api';
import { useAuth } from '../../lib/auth';
import { useToast } from '../../lib/toast';
import { Button, Field, Input, Page, Select, ShownOnce, Table } from '../../components/ui';

interface Member {
  userId: string;
  name: string;
  email: string;
  role: string;
}
interface Invitation {
  id: string;
  email: string;
  role: string;
  expiresAt: string;
}

const ROLES = ['viewer', 'editor', 'admin', 'owner'];

/** Members and their roles; admins invite (the link is shown once), change roles and remove. */
export function Members() {
  const { atLeast, me } = useAuth();
  const manage = atLeast('admin');
  const client = useQueryClient();
  const toast = useToast();
  const members = useQuery({ queryKey: ['members'], queryFn: () => api<{ data: Member[] }>('GET', '/members').then((r) => r.data) });
  const invitations = useQuery({
    queryKey: ['invitations'],
    enabled: manage,
    queryFn: () => api<{ data: Invitation[] }>('GET', '/invitations').then((r) => r.data),
  });
  const [email, setEmail] = useState('');
  const [role, setRole] = useState('viewer');
  const [link, setLink] = useState<string | null>(null);
  const fail = (err: unknown) => toast('error', err instanceof ApiError ? err.message : 'The request failed.');
  const refresh = () => Promise.all([client.invalidateQueries({ queryKey: ['members'] }), client.invalidateQueries({ queryKey: ['invitations'] })]);

  const invite = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const r = await api<{ data: { url: string } }>('POST', '/invitations', { email, role });
      setLink(r.data.url);
      setEmail('');
      await refresh();
    } catch (err) {
      fail(err);
    }
  };

  return (
    <Page title="Members">
      {manage && (
        <form onSubmit={(e) => void invite(e)} className="flex flex-wrap items-end gap-3" aria-label="Invite a member">
          <Field label="Email">{(id) => <Input id={id} type="email" value={email} onChange={(e) => setEmail(e.target.value)} required />}</Field>
          <Field label="Role">
            {(id) => (
              <Select id={id} value={role} onChange={(e) => setRole(e.target.value)}>
                {ROLES.slice(0, 3).map((r) => (
                  <option key={r}>{r}</option>
                ))}
              </Select>
            )}
          </Field>
          <Button type="submit">Invite</Button>
        </form>
      )}
      {link && <ShownOnce title="Send this invitation link (shown once):" value={link} onCopied={() => toast('success', 'Copied.')} />}
      <Table
        rows={members.data ?? []}
        rowKey={(m) => m.userId}
        columns={[
          { key: 'name', header: 'Name', cell: (m) => m.name },
          { key: 'email', header: 'Email', cell: (m) => m.email },
          {
            key: 'role',
            header: 'Role',
            cell: (m) =>
              manage && m.userId !== me?.user?.id ? (
                <Select
                  aria-label={`Role of ${m.email}`}
                  value={m.role}
                  onChange={(e) => void api('PATCH', `/members/${m.userId}`, { role: e.target.value }).then(refresh, fail)}
                >
                  {ROLES.map((r) => (
                    <option key={r}>{r}</option>
                  ))}
                </Select>
              ) : (
                m.role
              ),
          },
        ]}
        actions={
          manage
            ? (m) =>
                m.userId !== me?.user?.id && (
                  <Button variant="ghost" aria-label={`Remove ${m.email}`} onClick={() => void api('DELETE', `/members/${m.userId}`).then(refresh, fail)}>
                    Remove
                  </Button>
                )
            : undefined
        }
      />
      {manage && Boolean(invitations.data?.length) && (
        <section aria-labelledby="pending">
          <h2 id="pending" className="mb-2 text-lg font-semibold">
            Pending invitations
          </h2>
          <ul className="flex flex-col gap-2 text-sm">
            {invitations.data!.map((i) => (
              <li key={i.id} className="flex items-center justify-between rounded-md border border-zinc-200 p-2 dark:border-zinc-800">
                <span>
                  {i.email} · {i.role} · until {new Date(i.expiresAt).toLocaleDateString()}
                </span>
                <Button
                  variant="ghost"
                  aria-label={`Revoke invitation of ${i.email}`}
                  onClick={() => void api('DELETE', `/invitations/${i.id}`).then(refresh, fail)}
                >
                  Revoke
                </Button>
              </li>
            ))}
          </ul>
        </section>
      )}
    </Page>
  );
}
