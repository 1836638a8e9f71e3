import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { useNavigate } from 'react-router';
import { Button, Field, Input, Page } from '../../components/ui';
import { ApiError, api } from '../../lib/api';
import { useAuth } from '../../lib/auth';
import { useToast } from '../../lib/toast';

/** The organization (rename, create another, delete) and the signed-in account. */
export function Settings() {
  const { me, atLeast, switchOrg } = useAuth();
  const toast = useToast();
  const client = useQueryClient();
  const navigate = useNavigate();
  const org = me?.organization;
  const [name, setName] = useState(org?.name ?? '');
  const [newOrg, setNewOrg] = useState('');
  const [confirm, setConfirm] = useState('');
  const fail = (err: unknown) => toast('error', err instanceof ApiError ? err.message : 'The request failed.');

  const rename = async (e: FormEvent) => {
    e.preventDefault();
    if (!org) return;
    try {
      await api('PATCH', `/orgs/${org.id}`, { name });
      await switchOrg(org.id);
      toast('success', 'Organization renamed.');
    } catch (err) {
      fail(err);
    }
  };
  const create = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const r = await api<{ data: { id: string } }>('POST', '/orgs', { name: newOrg });
      await switchOrg(r.data.id);
      client.clear();
      toast('success', `Now working in ${newOrg}.`);
      void navigate('/dashboard');
    } catch (err) {
      fail(err);
    }
  };
  const remove = async () => {
    if (!org) return;
    try {
      await api('DELETE', `/orgs/${org.id}`);
      const orgs = await api<{ data: { id: string }[] }>('GET', '/orgs');
      if (orgs.data[0]) await switchOrg(orgs.data[0].id);
      client.clear();
      void navigate('/dashboard');
    } catch (err) {
      fail(err);
    }
  };

  return (
    <Page title="Settings">
      <section className="flex max-w-xl flex-col gap-3">
        <h2 className="text-lg font-semibold">Organization</h2>
        <p className="text-sm text-zinc-600 dark:text-zinc-400">
          {org?.name} · plan {org?.plan ?? 'free'} · your role: {me?.role}
        </p>
        {atLeast('admin') && (
          <form onSubmit={(e) => void rename(e)} className="flex items-end gap-2">
            <Field label="Organization name">{(id) => <Input id={id} value={name} onChange={(e) => setName(e.target.value)} />}</Field>
            <Button type="submit" variant="secondary">
              Rename
            </Button>
          </form>
        )}
      </section>
      <section className="flex max-w-xl flex-col gap-3">
        <h2 className="text-lg font-semibold">New organization</h2>
        <form onSubmit={(e) => void create(e)} className="flex items-end gap-2">
          <Field label="Name of the new organization">{(id) => <Input id={id} value={newOrg} onChange={(e) => setNewOrg(e.target.value)} />}</Field>
          <Button type="submit">Create</Button>
        </form>
      </section>
      <section className="flex max-w-xl flex-col gap-3">
        <h2 className="text-lg font-semibold">Account</h2>
        <p className="text-sm">
          {me?.user?.name} · {me?.user?.email}
        </p>
      </section>
      {atLeast('owner') && (
        <section className="flex max-w-xl flex-col gap-3 rounded-lg border border-red-300 p-4 dark:border-red-800">
          <h2 className="text-lg font-semibold text-red-800 dark:text-red-300">Delete this organization</h2>
          <p className="text-sm">Its models, records, flows, agents and keys are deleted for good. Type its name to confirm.</p>
          <Field label="Organization name to confirm">{(id) => <Input id={id} value={confirm} onChange={(e) => setConfirm(e.target.value)} />}</Field>
          <div>
            <Button variant="danger" disabled={confirm !== org?.name} onClick={() => void remove()}>
              Delete organization
            </Button>
          </div>
        </section>
      )}
    </Page>
  );
}
