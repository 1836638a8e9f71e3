import { type FormEvent, useCallback, useMemo, useState } from 'react';
import { useInfiniteQuery, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams, useSearchParams } from 'react-router';
import { ApiError, type List, api, currentToken, isConflict } from '../../lib/api';
import { useAuth } from '../../lib/auth';
import { useToast } from '../../lib/toast';
import { Button, Empty, Field, Input, Page, Select } from '../../components/ui';
import { VirtualTable } from '../../components/VirtualTable';
import type { FieldDef, Model, RecordRow } from './types';
import { FilterBuilder } from './FilterBuilder';
import { type FilterGroup, toFilter } from './filter';
import { DeleteDialog } from './DeleteDialog';
import { ImportDialog } from './ImportDialog';
import { EmbeddingsPanel, SchemaPanel, VersionsPanel } from './ModelPanels';
import { useLiveRecords } from './live-records';

const TABS = [
  { id: 'records', label: 'Records' },
  { id: 'schema', label: 'Schema' },
  { id: 'embeddings', label: 'Embeddings & search' },
  { id: 'versions', label: 'Versions' },
] as const;

/** An expanded related record as a short label: its first text value, else its id. */
function labelOf(r: Record<string, unknown>): string {
  const text = Object.entries(r).find(
    ([k, v]) => typeof v === 'string' && !['id', 'createdAt', 'updatedAt', 'createdBy', 'updatedBy'].includes(k) && v.length < 200,
  );
  return (text?.[1] as string | undefined) ?? String(r.id).slice(0, 8);
}

/** A cell as text: arrays and objects as JSON, booleans as yes/no, related records by label. */
function show(v: unknown, f?: FieldDef): string {
  if (v === null || v === undefined) return '';
  if (f?.type === 'relation' && typeof v === 'object') return labelOf(v as Record<string, unknown>);
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

/** A record's value as the text an input holds (the inverse of parse). */
function draftOf(f: FieldDef, v: unknown): string {
  if (v === null || v === undefined) return '';
  if (f.type === 'relation') return typeof v === 'string' ? v : typeof v === 'object' ? show((v as { id: unknown }).id) : show(v);
  if (f.type === 'json' || f.type === 'array') return JSON.stringify(v);
  return show(v) === 'yes' && f.type === 'boolean' ? 'true' : show(v) === 'no' && f.type === 'boolean' ? 'false' : show(v);
}

/** A related record chosen by its label (the first 200 of the target model). */
function RelationSelect({ f, common, value, onChange }: { f: FieldDef; common: Record<string, unknown>; value: string; onChange: (v: string) => void }) {
  const options = useQuery({
    queryKey: ['records', f.target, 'options'],
    queryFn: () => api<List<RecordRow>>('GET', `/data/${f.target ?? ''}?limit=200&sort=-createdAt`).then((r) => r.data),
  });
  return (
    <Select {...common} value={value} onChange={(e) => onChange(e.target.value)}>
      <option value="">—</option>
      {(options.data ?? []).map((r) => (
        <option key={r.id} value={r.id}>
          {labelOf(r)}
        </option>
      ))}
    </Select>
  );
}

function FieldInput({
  f,
  id,
  value,
  onChange,
  describedBy,
  invalid,
}: {
  f: FieldDef;
  id: string;
  value: string;
  onChange: (v: string) => void;
  describedBy: string | undefined;
  invalid: boolean;
}) {
  const common = { id, 'aria-describedby': describedBy, 'aria-invalid': invalid };
  if (f.type === 'relation') return <RelationSelect f={f} common={common} value={value} onChange={onChange} />;
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

/** If-Match of a record: its updatedAt (the record's version, to the microsecond). */
const versionOf = (row: RecordRow) => (typeof row.updatedAt === 'string' ? { ifMatch: row.updatedAt } : {});

export function Records() {
  const { model: name = '' } = useParams();
  const [search] = useSearchParams();
  const tab = search.get('tab') ?? 'records';
  const { canEdit } = useAuth();
  const toast = useToast();
  const client = useQueryClient();
  const [sort, setSort] = useState('-createdAt');
  const [q, setQ] = useState('');
  const [draft, setDraft] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [group, setGroup] = useState<FilterGroup>({ match: 'all', conditions: [] });
  const [showFilter, setShowFilter] = useState(false);
  const [showImport, setShowImport] = useState(false);
  // `base`: the record as it was when editing began. Its version is what the save sends, so a
  // change someone else made meanwhile (applied live to the row) is a conflict, not overwritten.
  const [editing, setEditing] = useState<{ id: string; base: RecordRow; draft: Record<string, string>; errors: Record<string, string> } | null>(null);
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const model = useQuery({ queryKey: ['model', name], queryFn: () => api<{ data: Model }>('GET', `/models/${name}`).then((r) => r.data) });
  const fields = useMemo(() => model.data?.fields ?? [], [model.data]);
  const relations = fields.filter((f) => f.type === 'relation').map((f) => f.name);
  const filter = useMemo(() => toFilter(group, fields), [group, fields]);
  const filterJson = filter ? JSON.stringify(filter) : '';
  const listParams = () => {
    const params = new URLSearchParams({ sort });
    if (q) params.set('q', q);
    if (filterJson) params.set('filter', filterJson);
    if (relations.length) params.set('expand', relations.join(','));
    return params;
  };
  const recordsKey = ['records', name, sort, q, filterJson, relations.join()];
  const follow = useLiveRecords({ model: name, filter, fields, queryKey: recordsKey, view: { sort, searching: q !== '' } });
  const records = useInfiniteQuery({
    queryKey: recordsKey,
    enabled: follow.live.ready && !model.isPending,
    refetchOnWindowFocus: false,
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) => {
      const params = listParams();
      params.set('limit', '50');
      if (pageParam) params.set('cursor', pageParam);
      return api<List<RecordRow>>('GET', `/data/${name}?${params.toString()}`);
    },
    getNextPageParam: (last) => last.meta.nextCursor,
  });
  const rows = useMemo(() => records.data?.pages.flatMap((p) => p.data) ?? [], [records.data]);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = records;
  // Scrolling near the end of the grid loads the next page (cursor paging).
  const loadMore = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setErrors({});
    const body: Record<string, unknown> = {};
    for (const f of fields) {
      const v = parse(f, draft[f.name] ?? '');
      if (v !== undefined) body[f.name] = v;
    }
    try {
      const r = await api<{ data: RecordRow }>('POST', `/data/${name}`, body);
      setDraft({});
      toast('success', 'Record created.');
      follow.applyLocal({ type: 'created', row: r.data });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      setErrors(err.fieldErrors());
      toast('error', err.message);
    }
  };

  /** Records waiting for the delete confirmation (which shows what else the delete removes). */
  const [toDelete, setToDelete] = useState<string[] | null>(null);
  // If-Match of a single delete: the record's updatedAt as this page shows it; a record changed since is not deleted unseen.
  const [deleteVersion, setDeleteVersion] = useState<{ ifMatch?: string }>({});
  const remove = (row: RecordRow) => {
    setDeleteVersion(versionOf(row));
    setToDelete([row.id]);
  };

  const deleteNow = async (ids: string[]) => {
    try {
      if (ids.length === 1) {
        await api('DELETE', `/data/${name}/${ids[0]}`, undefined, deleteVersion);
        toast('success', 'Record deleted.');
      } else {
        const r = await api<{ data: { count: number } }>('POST', `/data/${name}/bulk`, { op: 'delete', items: ids });
        toast('success', `${r.data.count} record(s) deleted.`);
      }
      setPicked((p) => new Set([...p].filter((id) => !ids.includes(id))));
      setToDelete(null);
      for (const id of ids) follow.applyLocal({ type: 'deleted', id });
    } catch (err) {
      toast('error', err instanceof ApiError ? err.message : 'Could not delete.');
      if (isConflict(err)) {
        setToDelete(null);
        await client.invalidateQueries({ queryKey: ['records', name] });
      }
    }
  };

  const refresh = () => client.invalidateQueries({ queryKey: ['records', name] });

  /** Saves the row being edited: only the changed fields, each error under its input. */
  const saveEdit = async () => {
    if (!editing) return;
    const row = editing.base;
    const body: Record<string, unknown> = {};
    for (const f of fields) {
      const before = draftOf(f, row[f.name]);
      const now = editing.draft[f.name] ?? before;
      if (now !== before) body[f.name] = now === '' ? null : parse(f, now);
    }
    if (!Object.keys(body).length) return setEditing(null);
    try {
      const r = await api<{ data: RecordRow }>('PATCH', `/data/${name}/${row.id}`, body, versionOf(row));
      setEditing(null);
      toast('success', 'Record saved.');
      follow.applyLocal({ type: 'updated', row: r.data });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      setEditing({ ...editing, errors: err.fieldErrors() });
      toast('error', err.message);
    }
  };

  const removePicked = () => setToDelete([...picked]);

  const download = async (format: 'csv' | 'json' | 'xml') => {
    const params = listParams();
    params.set('format', format);
    const res = await fetch(`/api/v1/data/${name}/export?${params.toString()}`, { headers: { authorization: `Bearer ${currentToken() ?? ''}` } });
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
          <Button variant="secondary" onClick={() => void download('xml')}>
            Export XML
          </Button>
          {canEdit && (
            <Button variant="secondary" onClick={() => setShowImport((v) => !v)} aria-expanded={showImport}>
              Import
            </Button>
          )}
        </>
      }
    >
      <nav aria-label="Model" className="flex gap-1 border-b border-zinc-200 dark:border-zinc-800">
        {TABS.map((t) => (
          <Link
            key={t.id}
            to={t.id === 'records' ? `/data/${name}` : `/data/${name}?tab=${t.id}`}
            aria-current={tab === t.id ? 'page' : undefined}
            className={`-mb-px border-b-2 px-3 py-2 text-sm ${tab === t.id ? 'border-indigo-600 font-medium' : 'border-transparent text-zinc-600 hover:text-zinc-900 dark:text-zinc-400 dark:hover:text-zinc-100'}`}
          >
            {t.label}
          </Link>
        ))}
      </nav>
      {model.data && tab === 'schema' && <SchemaPanel model={model.data} />}
      {model.data && tab === 'embeddings' && <EmbeddingsPanel key={model.data.version} model={model.data} />}
      {model.data && tab === 'versions' && <VersionsPanel model={model.data} />}
      {tab === 'records' && (
        <>
          {canEdit && fields.length > 0 && (
            <form
              onSubmit={(e) => void create(e)}
              className="flex flex-wrap items-end gap-3 rounded-lg border border-zinc-200 p-4 dark:border-zinc-800"
              aria-label="New record"
              noValidate
            >
              {fields.map((f) => (
                <Field key={f.name} label={(f.label ?? f.name) + (f.required ? ' *' : '')} error={errors[f.name]}>
                  {(id, d) => (
                    <FieldInput
                      f={f}
                      id={id}
                      describedBy={d}
                      invalid={Boolean(errors[f.name])}
                      value={draft[f.name] ?? ''}
                      onChange={(v) => setDraft((x) => ({ ...x, [f.name]: v }))}
                    />
                  )}
                </Field>
              ))}
              <Button type="submit">Add record</Button>
            </form>
          )}
          {showImport && <ImportDialog model={name} onDone={() => void refresh()} />}
          {toDelete && (
            <DeleteDialog
              model={name}
              label={model.data?.label ?? name}
              ids={toDelete}
              onCancel={() => setToDelete(null)}
              onConfirm={() => deleteNow(toDelete)}
            />
          )}
          <div className="flex flex-wrap items-end gap-3">
            <Field label="Search">
              {(id) => <Input id={id} type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="Full-text search" />}
            </Field>
            <Button variant="secondary" onClick={() => setShowFilter((v) => !v)} aria-expanded={showFilter}>
              Filter{group.conditions.length ? ` (${group.conditions.length})` : ''}
            </Button>
            {canEdit && picked.size > 0 && (
              <Button variant="danger" onClick={removePicked}>
                Delete selected ({picked.size})
              </Button>
            )}
          </div>
          {showFilter && <FilterBuilder fields={fields} value={group} onChange={setGroup} />}
          {follow.live.error && (
            <p className="text-xs text-zinc-600 dark:text-zinc-400" data-testid="live-off">
              Not updating live with this filter: {follow.live.error.message}
            </p>
          )}
          {follow.leftOut > 0 && (
            <button
              type="button"
              onClick={() => void follow.showLeftOut()}
              className="self-start rounded-full border border-indigo-300 bg-indigo-50 px-3 py-1 text-xs font-medium text-indigo-800 hover:bg-indigo-100 dark:border-indigo-700 dark:bg-indigo-950 dark:text-indigo-200"
            >
              {follow.leftOut} new record{follow.leftOut === 1 ? '' : 's'} · show
            </button>
          )}
          {records.isError ? (
            <p role="alert" className="text-sm text-red-700 dark:text-red-400">
              {records.error instanceof ApiError ? records.error.message : 'The records could not be loaded.'}
            </p>
          ) : records.isPending ? (
            <p aria-busy="true">Loading records…</p>
          ) : rows.length === 0 ? (
            <Empty>No records{q || filter ? ' match' : ' yet'}.</Empty>
          ) : (
            <VirtualTable
              label={`Records of ${name}`}
              onEndReached={loadMore}
              rows={rows}
              rowKey={(r) => r.id}
              columns={[
                ...(canEdit
                  ? [
                      {
                        key: '_pick',
                        header: <span className="sr-only">Select</span>,
                        cell: (r: RecordRow) => (
                          <input
                            type="checkbox"
                            aria-label={`Select record ${r.id}`}
                            checked={picked.has(r.id)}
                            onChange={(e) =>
                              setPicked((p) => {
                                const n = new Set(p);
                                if (e.target.checked) n.add(r.id);
                                else n.delete(r.id);
                                return n;
                              })
                            }
                          />
                        ),
                      },
                    ]
                  : []),
                ...fields.map((f) => ({
                  key: f.name,
                  sort: sort === f.name ? ('ascending' as const) : sort === `-${f.name}` ? ('descending' as const) : ('none' as const),
                  header: (
                    <button type="button" onClick={() => sortBy(f.name)} className="hover:underline">
                      {f.label ?? f.name}
                      {arrow(f.name)}
                    </button>
                  ),
                  cell: (r: RecordRow) =>
                    editing?.id === r.id ? (
                      <Field label={`${f.label ?? f.name} (editing)`} error={editing.errors[f.name]}>
                        {(id, d) => (
                          <FieldInput
                            f={f}
                            id={id}
                            describedBy={d}
                            invalid={Boolean(editing.errors[f.name])}
                            value={editing.draft[f.name] ?? draftOf(f, editing.base[f.name])}
                            onChange={(v) => setEditing((x) => x && { ...x, draft: { ...x.draft, [f.name]: v } })}
                          />
                        )}
                      </Field>
                    ) : canEdit ? (
                      <span onDoubleClick={() => setEditing({ id: r.id, base: r, draft: {}, errors: {} })} title="Double-click to edit">
                        {show(r[f.name], f)}
                      </span>
                    ) : (
                      show(r[f.name], f)
                    ),
                })),
              ]}
              actions={
                canEdit
                  ? (r) =>
                      editing?.id === r.id ? (
                        <span className="flex justify-end gap-1">
                          <Button onClick={() => void saveEdit()}>Save</Button>
                          <Button variant="ghost" onClick={() => setEditing(null)}>
                            Cancel
                          </Button>
                        </span>
                      ) : (
                        <span className="flex justify-end gap-1">
                          <Button variant="ghost" onClick={() => setEditing({ id: r.id, base: r, draft: {}, errors: {} })} aria-label={`Edit record ${r.id}`}>
                            Edit
                          </Button>
                          <Button variant="ghost" onClick={() => remove(r)} aria-label={`Delete record ${r.id}`}>
                            Delete
                          </Button>
                        </span>
                      )
                  : undefined
              }
            />
          )}
          <div className="flex items-center gap-3 text-sm text-zinc-600 dark:text-zinc-400">
            <span data-testid="loaded-count">{rows.length} loaded</span>
            {records.hasNextPage && (
              <Button variant="secondary" onClick={loadMore} disabled={records.isFetchingNextPage}>
                Load more
              </Button>
            )}
          </div>
        </>
      )}
    </Page>
  );
}
