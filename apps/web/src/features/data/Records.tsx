import { type FormEvent, useState } from 'react';
import { useInfiniteQuery, useQuery, useQueryClient } from '@tanstack/react-query';
import { useParams } from 'react-router';
import { ApiError, type List, api, currentToken } from '../../lib/api';
import { useAuth } from '../../lib/auth';
import { useToast } from '../../lib/toast';
import { Button, Empty, Field, Input, Page, Select, Table } from '../../components/ui';
import type { FieldDef, Model, RecordRow } from './types';

/** A cell as text: arrays and objects as JSON, booleans as yes/no. */
function show(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return v.toString();
  return JSON.stringify(v);
}

/** A form value typed for its field (the server validates again and explains what is wrong). */
function parse(f: FieldDef, raw: string): unknown {
  if (raw === '') return undefined;
  switch (f.type) {
    case 'integer':
    case 'number':
      return Number.isNaN(Number(raw)) ? raw : Number(raw);
    case 'boolean':
      return raw === 'true';
    case 'json':
    case 'array':
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        return raw;
      }
    default:
      return raw;
  }
}

function FieldInput({ f, id, value, onChange, describedBy, invalid }: { f: FieldDef; id: string; value: string; onChange: (v: string) => void; describedBy: string | undefined; invalid: boolean }) {
  const common = { id, 'aria-describedby': describedBy, 'aria-invalid': invalid };
  if (f.type === 'boolean' || f.type === 'enum') {
    const options = f.type === 'boolean' ? ['true', 'false'] : (f.values ?? []);
    return (
      <Select {...common} value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">—</option>
        {options.map((o) => (
          <option key={o}>{o}</option>
        ))}
      </Select>
    );
  }
  const type = f.type === 'integer' || f.type === 'number' ? 'number' : f.type === 'date' ? 'date' : 'text';
  return <Input {...common} type={type} step={f.type === 'number' ? 'any' : undefined} value={value} onChange={(e) => onChange(e.target.value)} />;
}

export function Records() {
  const { model: name = '' } = useParams();
  const { canEdit } = useAuth();
  const toast = useToast();
  const client = useQueryClient();
  const [sort, setSort] = useState('-createdAt');
  const [q, setQ] = useState('');
  const [draft, setDraft] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const model = useQuery({ queryKey: ['model', name], queryFn: () => api<{ data: Model }>('GET', `/models/${name}`).then((r) => r.data) });
  const records = useInfiniteQuery({
    queryKey: ['records', name, sort, q],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) => {
      const params = new URLSearchParams({ limit: '50', sort });
      if (q) params.set('q', q);
      if (pageParam) params.set('cursor', pageParam);
      return api<List<RecordRow>>('GET', `/data/${name}?${params.toString()}`);
    },
    getNextPageParam: (last) => last.meta.nextCursor,
  });
  const rows = records.data?.pages.flatMap((p) => p.data) ?? [];
  const fields = model.data?.fields.filter((f) => f.type !== 'relation') ?? [];

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setErrors({});
    const body: Record<string, unknown> = {};
    for (const f of fields) {
      const v = parse(f, draft[f.name] ?? '');
      if (v !== undefined) body[f.name] = v;
    }
    try {
      await api('POST', `/data/${name}`, body);
      setDraft({});
      toast('success', 'Record created.');
      await client.invalidateQueries({ queryKey: ['records', name] });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      setErrors(err.fieldErrors());
      toast('error', err.message);
    }
  };

  const remove = async (id: string) => {
    try {
      await api('DELETE', `/data/${name}/${id}`);
      await client.invalidateQueries({ queryKey: ['records', name] });
    } catch (err) {
      toast('error', err instanceof ApiError ? err.message : 'Could not delete the record.');
    }
  };

  const download = async (format: 'csv' | 'json') => {
    const res = await fetch(`/api/v1/data/${name}/export?format=${format}`, { headers: { authorization: `Bearer ${currentToken() ?? ''}` } });
    if (!res.ok) return toast('error', `Export failed (${res.status}).`);
    const url = URL.createObjectURL(await res.blob());
    const a = Object.assign(document.createElement('a'), { href: url, download: `${name}.${format}` });
    a.click();
    URL.revokeObjectURL(url);
  };

  const sortBy = (col: string) => setSort((s) => (s === col ? `-${col}` : col));
  const arrow = (col: string) => (sort === col ? ' ▲' : sort === `-${col}` ? ' ▼' : '');

  return (
    <Page
      title={model.data?.label ?? name}
      actions={
        <>
          <Button variant="secondary" onClick={() => void download('csv')}>
            Export CSV
          </Button>
          <Button variant="secondary" onClick={() => void download('json')}>
            Export JSON
          </Button>
        </>
      }
    >
      {canEdit && fields.length > 0 && (
        <form onSubmit={(e) => void create(e)} className="flex flex-wrap items-end gap-3 rounded-lg border border-zinc-200 p-4 dark:border-zinc-800" aria-label="New record" noValidate>
          {fields.map((f) => (
            <Field key={f.name} label={f.name + (f.required ? ' *' : '')} error={errors[f.name]}>
              {(id, d) => <FieldInput f={f} id={id} describedBy={d} invalid={Boolean(errors[f.name])} value={draft[f.name] ?? ''} onChange={(v) => setDraft((x) => ({ ...x, [f.name]: v }))} />}
            </Field>
          ))}
          <Button type="submit">Add record</Button>
        </form>
      )}
      <div className="flex items-end gap-3">
        <Field label="Search">{(id) => <Input id={id} type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="Full-text search" />}</Field>
      </div>
      {records.isError ? (
        <p role="alert" className="text-sm text-red-700 dark:text-red-400">
          {records.error instanceof ApiError ? records.error.message : 'The records could not be loaded.'}
        </p>
      ) : records.isPending ? (
        <p aria-busy="true">Loading records…</p>
      ) : rows.length === 0 ? (
        <Empty>No records{q ? ' match this search' : ' yet'}.</Empty>
      ) : (
        <Table
          rows={rows}
          rowKey={(r) => r.id}
          columns={fields.map((f) => ({
            key: f.name,
            sort: sort === f.name ? ('ascending' as const) : sort === `-${f.name}` ? ('descending' as const) : ('none' as const),
            header: (
              <button type="button" onClick={() => sortBy(f.name)} className="hover:underline">
                {f.name}
                {arrow(f.name)}
              </button>
            ),
            cell: (r: RecordRow) => show(r[f.name]),
          }))}
          actions={
            canEdit
              ? (r) => (
                  <Button variant="ghost" onClick={() => void remove(r.id)} aria-label={`Delete record ${r.id}`}>
                    Delete
                  </Button>
                )
              : undefined
          }
        />
      )}
      {records.hasNextPage && (
        <div>
          <Button variant="secondary" onClick={() => void records.fetchNextPage()} disabled={records.isFetchingNextPage}>
            Load more
          </Button>
        </div>
      )}
    </Page>
  );
}
