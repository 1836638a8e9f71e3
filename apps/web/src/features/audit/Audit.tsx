import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { type List, api, currentToken } from '../../lib/api';
import { Button, Field, Input, Page, Table } from '../../components/ui';

interface Entry {
  id: string;
  seq: number;
  at: string;
  action: string;
  actor: { type: string; id: string | null };
  target: { type: string; id: string } | null;
}

/** The organization's audit log with an action filter, and the CSV export. */
export function Audit() {
  const [action, setAction] = useState('');
  const entries = useQuery({
    queryKey: ['audit', action],
    queryFn: () => api<List<Entry>>('GET', `/audit?limit=100${action ? `&action=${encodeURIComponent(action)}` : ''}`),
  });
  const exportCsv = async () => {
    const res = await fetch('/api/v1/audit/export?format=csv', { headers: { authorization: `Bearer ${currentToken() ?? ''}` } });
    const url = URL.createObjectURL(await res.blob());
    Object.assign(document.createElement('a'), { href: url, download: 'audit.csv' }).click();
    URL.revokeObjectURL(url);
  };
  return (
    <Page
      title="Audit log"
      actions={
        <Button variant="secondary" onClick={() => void exportCsv()}>
          Export CSV
        </Button>
      }
    >
      <Field label="Actions (comma separated)">
        {(id) => <Input id={id} value={action} onChange={(e) => setAction(e.target.value.toUpperCase())} placeholder="MODEL_CREATE,SECRET_USE" />}
      </Field>
      {entries.isError && <p role="alert">{entries.error.message}</p>}
      <Table
        rows={entries.data?.data ?? []}
        rowKey={(e) => e.id}
        columns={[
          { key: 'seq', header: '#', cell: (e) => e.seq },
          { key: 'at', header: 'When', cell: (e) => new Date(e.at).toLocaleString() },
          { key: 'action', header: 'Action', cell: (e) => <code>{e.action}</code> },
          { key: 'actor', header: 'Actor', cell: (e) => e.actor.type },
          { key: 'target', header: 'Target', cell: (e) => (e.target ? `${e.target.type} ${e.target.id.slice(0, 8)}…` : '') },
        ]}
      />
    </Page>
  );
}
