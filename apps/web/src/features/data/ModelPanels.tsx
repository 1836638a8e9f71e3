import { useQuery, useQueryClient } from '@tanstack/react-query';
import { SEARCH_WIDTH_DEFAULTS, SEARCH_WIDTH_SAMPLES } from '@infinity/contracts/search';
import { type FormEvent, useState } from 'react';
import { Button, Field, Input, Select, Table } from '../../components/ui';
import { ApiError, api, isConflict } from '../../lib/api';
import { useAuth } from '../../lib/auth';
import { useToast } from '../../lib/toast';
import { FIELD_TYPES, type EmbeddingSettings, type FieldDef, type Model, type RecordRow } from './types';
import { OptionSelect } from '../../components/OptionSelect';
import { modelOptions, useModels, useSecrets } from '../../lib/refs';

const show = (v: unknown) => (v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));

/** The fields of a model: add one (any type, relations included) or drop one. */
export function SchemaPanel({ model }: { model: Model }) {
  const { canEdit } = useAuth();
  const toast = useToast();
  const client = useQueryClient();
  const [draft, setDraft] = useState<FieldDef>({ name: '', type: 'string' });
  const [values, setValues] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [renaming, setRenaming] = useState<{ from: string; to: string } | null>(null);
  const models = useModels();
  const change = async (body: unknown, done: string) => {
    setErrors({});
    try {
      // If-Match: a change based on a definition someone else has changed since is refused (412).
      await api('PATCH', `/models/${model.name}`, body, { ifMatch: model.version });
      toast('success', done);
      await client.invalidateQueries({ queryKey: ['model', model.name] });
      await client.invalidateQueries({ queryKey: ['models'] });
      return true;
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      setErrors(Object.fromEntries(Object.entries(err.fieldErrors()).map(([k, v]) => [k.replace(/^addFields\.0\./, ''), v])));
      toast('error', err.message);
      // Changed elsewhere: show the model as it is now, so the change can be made again on it.
      if (isConflict(err)) await client.invalidateQueries({ queryKey: ['model', model.name] });
      return false;
    }
  };
  const add = async (e: FormEvent) => {
    e.preventDefault();
    const { target, kind, onDelete, ...rest } = draft;
    const field: FieldDef = {
      ...rest,
      ...(draft.type === 'enum'
        ? {
            values: values
              .split(',')
              .map((v) => v.trim())
              .filter(Boolean),
          }
        : {}),
      ...(draft.type === 'relation' ? { target, kind, onDelete } : {}),
    };
    if (await change({ addFields: [field] }, `Field ${draft.name} added.`)) setDraft({ name: '', type: 'string' });
  };
  return (
    <section aria-label="Schema" className="flex flex-col gap-4">
      <Table
        label="Fields"
        rows={model.fields}
        rowKey={(f) => f.name}
        columns={[
          {
            key: 'name',
            header: 'Field',
            cell: (f) =>
              renaming?.from === f.name ? (
                <form
                  className="flex gap-1"
                  onSubmit={(e) => {
                    e.preventDefault();
                    void change({ renameFields: [renaming] }, `Renamed to ${renaming.to}.`).then((ok) => ok && setRenaming(null));
                  }}
                >
                  <Input
                    aria-label={`New name for ${f.name}`}
                    value={renaming.to}
                    onChange={(e) => setRenaming({ ...renaming, to: e.target.value })}
                    autoFocus
                  />
                  <Button type="submit">Save</Button>
                  <Button variant="ghost" onClick={() => setRenaming(null)}>
                    Cancel
                  </Button>
                </form>
              ) : (
                f.name
              ),
          },
          {
            key: 'type',
            header: 'Type',
            cell: (f) =>
              f.type === 'relation'
                ? `relation → ${f.target ?? ''} (${f.kind ?? 'many-to-one'}, on delete ${f.onDelete ?? 'restrict'})`
                : f.type === 'enum'
                  ? `enum: ${(f.values ?? []).join(', ')}`
                  : f.type,
          },
          {
            key: 'req',
            header: 'Required',
            cell: (f) =>
              canEdit ? (
                <input
                  type="checkbox"
                  aria-label={`${f.name} required`}
                  checked={Boolean(f.required)}
                  onChange={(e) =>
                    void change({ updateFields: [{ ...f, required: e.target.checked }] }, `${f.name} is ${e.target.checked ? 'now required' : 'optional now'}.`)
                  }
                />
              ) : f.required ? (
                'yes'
              ) : (
                ''
              ),
          },
          { key: 'uniq', header: 'Unique', cell: (f) => (f.unique ? 'yes' : '') },
        ]}
        actions={
          canEdit
            ? (f) => (
                <span className="flex justify-end gap-1">
                  <Button variant="ghost" aria-label={`Rename field ${f.name}`} onClick={() => setRenaming({ from: f.name, to: f.name })}>
                    Rename
                  </Button>
                  <Button
                    variant="ghost"
                    aria-label={`Drop field ${f.name}`}
                    onClick={() =>
                      confirm(`Drop ${f.name} and its values from every record?`) && void change({ dropFields: [f.name] }, `Field ${f.name} dropped.`)
                    }
                  >
                    Drop
                  </Button>
                </span>
              )
            : undefined
        }
      />
      {canEdit && (
        <form
          onSubmit={(e) => void add(e)}
          className="flex flex-wrap items-end gap-3 rounded-lg border border-zinc-200 p-3 dark:border-zinc-800"
          aria-label="Add a field"
          noValidate
        >
          <Field label="New field name" error={errors.name}>
            {(id, d) => <Input id={id} aria-describedby={d} value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} />}
          </Field>
          <Field label="New field type">
            {(id) => (
              <Select id={id} value={draft.type} onChange={(e) => setDraft({ ...draft, type: e.target.value as FieldDef['type'] })}>
                {FIELD_TYPES.map((t) => (
                  <option key={t}>{t}</option>
                ))}
              </Select>
            )}
          </Field>
          {draft.type === 'enum' && (
            <Field label="Values" hint="Comma separated" error={errors.values}>
              {(id, d) => <Input id={id} aria-describedby={d} value={values} onChange={(e) => setValues(e.target.value)} />}
            </Field>
          )}
          {draft.type === 'relation' && (
            <>
              <Field label="Target model" error={errors.target}>
                {(id, d) => (
                  <OptionSelect
                    id={id}
                    aria-describedby={d}
                    options={modelOptions(models.data)}
                    value={draft.target ?? ''}
                    onValue={(v) => setDraft({ ...draft, target: v })}
                  />
                )}
              </Field>
              <Field label="On delete of the target">
                {(id) => (
                  <Select
                    id={id}
                    value={draft.onDelete ?? 'restrict'}
                    onChange={(e) => setDraft({ ...draft, onDelete: e.target.value as FieldDef['onDelete'] })}
                  >
                    <option value="restrict">restrict</option>
                    <option value="cascade">cascade</option>
                    <option value="set null">set null</option>
                  </Select>
                )}
              </Field>
            </>
          )}
          <label className="flex items-center gap-2 text-sm">
            <input type="checkbox" checked={Boolean(draft.required)} onChange={(e) => setDraft({ ...draft, required: e.target.checked || undefined })} />{' '}
            Required
          </label>
          <Button type="submit">Add field</Button>
          {errors.addFields && <p className="w-full text-xs text-red-700 dark:text-red-400">{errors.addFields}</p>}
        </form>
      )}
    </section>
  );
}

interface EmbeddingStatus extends Partial<EmbeddingSettings> {
  enabled: boolean;
  total: number;
  done: number;
  pending: number;
  failed: number;
  failures: { reason: string; count: number; final?: boolean }[];
  /** The graph widths the server measured on this model's own vector searches (null: not yet). */
  search?: Record<'plain' | 'filtered', SearchWidth | null>;
}

interface SearchWidth {
  width?: number;
  recall?: number;
  samples?: number;
  error?: string;
}

/** "150, recall@k 0.99 on 64 searches", or the default while nothing is measured. */
function widthText(m: SearchWidth | null | undefined, fallback: number): string {
  if (!m?.width) return `${fallback} (the default; measured after ${SEARCH_WIDTH_SAMPLES} searches)`;
  return `${m.width}${m.width === fallback ? ' (the default)' : ''}, recall@k ${m.recall} on ${m.samples} searches${m.error ? ` (last measurement failed: ${m.error})` : ''}`;
}

/** Embeddings of a model: turn on or off, choose the text fields and provider, and watch the back-fill. */
export function EmbeddingsPanel({ model }: { model: Model }) {
  const { canEdit } = useAuth();
  const toast = useToast();
  const client = useQueryClient();
  const textFields = model.fields.filter((f) => f.type === 'string' || f.type === 'text');
  const current = model.embedding;
  const [draft, setDraft] = useState<EmbeddingSettings>(
    current?.enabled ? current : { enabled: true, provider: 'local', sourceFields: textFields.slice(0, 2).map((f) => f.name), dimensions: 256 },
  );
  const status = useQuery({
    queryKey: ['embeddings', model.name],
    queryFn: () => api<{ data: EmbeddingStatus }>('GET', `/models/${model.name}/embeddings`).then((r) => r.data),
    refetchInterval: (q) => (q.state.data && q.state.data.enabled && q.state.data.pending > 0 ? 1000 : false),
  });
  const secrets = useSecrets(canEdit);
  const save = async (enabled: boolean) => {
    try {
      const body = enabled ? { ...draft, enabled: true, ...(draft.provider === 'local' ? { secretId: null } : {}) } : { enabled: false };
      await api('PATCH', `/models/${model.name}`, { embedding: body }, { ifMatch: model.version });
      toast('success', enabled ? 'Embeddings on: existing records are being embedded.' : 'Embeddings off.');
      await client.invalidateQueries({ queryKey: ['model', model.name] });
      await client.invalidateQueries({ queryKey: ['embeddings', model.name] });
    } catch (err) {
      toast('error', err instanceof ApiError ? err.message : 'The change failed.');
      if (isConflict(err)) await client.invalidateQueries({ queryKey: ['model', model.name] });
    }
  };
  const s = status.data;
  const pct = s && s.total > 0 ? Math.round((s.done / s.total) * 100) : 100;
  return (
    <section aria-label="Embeddings" className="flex max-w-3xl flex-col gap-4">
      {s?.enabled && (
        <div className="flex flex-col gap-1 text-sm" role="status">
          <div className="flex items-center gap-3">
            <progress max={100} value={pct} aria-label="Embedding progress" className="h-2 w-72" />
            <span data-testid="embedding-progress">
              {s.done} of {s.total} embedded{s.pending ? `, ${s.pending} pending` : ''}
              {s.failed ? `, ${s.failed} failed` : ''}
            </span>
          </div>
          <span className="text-xs text-zinc-600 dark:text-zinc-400">
            {s.provider} · {s.model} · {s.dimensions} dimensions · from {(s.sourceFields ?? []).join(', ')}
          </span>
          {s.search && (s.search.plain || s.search.filtered) && (
            <span className="text-xs text-zinc-600 dark:text-zinc-400" data-testid="search-widths">
              Search width {widthText(s.search.plain, SEARCH_WIDTH_DEFAULTS.plain)} · with a filter{' '}
              {widthText(s.search.filtered, SEARCH_WIDTH_DEFAULTS.filtered)}
            </span>
          )}
          {s.failures.map((f) => (
            <span key={f.reason} className="text-xs text-red-700 dark:text-red-400">
              {f.count}× {f.reason}
              {f.final ? ' (will not be retried until the content changes)' : ' (will be retried)'}
            </span>
          ))}
        </div>
      )}
      {canEdit && (
        <fieldset className="flex flex-col gap-3 rounded-lg border border-zinc-200 p-3 dark:border-zinc-800">
          <legend className="px-1 text-sm font-medium">{current?.enabled ? 'Change embeddings' : 'Turn on embeddings'}</legend>
          <div className="flex flex-wrap gap-3">
            {textFields.map((f) => (
              <label key={f.name} className="flex items-center gap-1 text-sm">
                <input
                  type="checkbox"
                  checked={draft.sourceFields?.includes(f.name) ?? false}
                  onChange={(e) =>
                    setDraft({
                      ...draft,
                      sourceFields: e.target.checked ? [...(draft.sourceFields ?? []), f.name] : (draft.sourceFields ?? []).filter((x) => x !== f.name),
                    })
                  }
                />
                embed {f.name}
              </label>
            ))}
            {textFields.length === 0 && <p className="text-sm">This model has no text fields to embed.</p>}
          </div>
          <div className="flex flex-wrap items-end gap-3">
            <Field label="Embedding provider">
              {(id) => (
                <Select
                  id={id}
                  value={draft.provider}
                  onChange={(e) =>
                    setDraft({
                      ...draft,
                      provider: e.target.value as EmbeddingSettings['provider'],
                      model: undefined,
                      dimensions: e.target.value === 'local' ? 256 : 1536,
                    })
                  }
                >
                  <option value="local">local (offline, lexical)</option>
                  <option value="openai">OpenAI</option>
                  <option value="openai-compatible">OpenAI-compatible</option>
                </Select>
              )}
            </Field>
            {draft.provider !== 'local' && (
              <>
                <Field label="Embedding key">
                  {(id) => (
                    <OptionSelect
                      id={id}
                      options={(secrets.data ?? []).filter((x) => x.provider === draft.provider).map((x) => ({ value: x.id, label: x.name }))}
                      value={draft.secretId ?? ''}
                      onValue={(v) => setDraft({ ...draft, secretId: v || null })}
                    />
                  )}
                </Field>
                <Field label="Embedding model">
                  {(id) => (
                    <Input
                      id={id}
                      value={draft.model ?? ''}
                      placeholder="text-embedding-ada-002"
                      onChange={(e) => setDraft({ ...draft, model: e.target.value || undefined })}
                    />
                  )}
                </Field>
              </>
            )}
            <Field label="Dimensions">
              {(id) => (
                <Input
                  id={id}
                  type="number"
                  min={2}
                  max={4000}
                  value={draft.dimensions ?? ''}
                  onChange={(e) => setDraft({ ...draft, dimensions: Number(e.target.value) || undefined })}
                />
              )}
            </Field>
          </div>
          <div className="flex gap-2">
            <Button onClick={() => void save(true)}>{current?.enabled ? 'Save embeddings' : 'Turn on embeddings'}</Button>
            {current?.enabled && (
              <Button variant="secondary" onClick={() => void save(false)}>
                Turn off
              </Button>
            )}
          </div>
        </fieldset>
      )}
      {current?.enabled && <SimilaritySearch model={model} />}
    </section>
  );
}

/** Similarity search over the model: vector, keyword or both, each result with its score. */
function SimilaritySearch({ model }: { model: Model }) {
  const [query, setQuery] = useState('');
  const [mode, setMode] = useState<'vector' | 'keyword' | 'hybrid'>('hybrid');
  const [results, setResults] = useState<(RecordRow & { _score: number })[] | null>(null);
  const [error, setError] = useState('');
  const search = async (e: FormEvent) => {
    e.preventDefault();
    setError('');
    try {
      setResults((await api<{ data: (RecordRow & { _score: number })[] }>('POST', `/data/${model.name}/search`, { query, mode, k: 10 })).data);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'The search failed.');
    }
  };
  const fields = model.fields.filter((f) => f.type !== 'relation').slice(0, 4);
  return (
    <section aria-label="Similarity search" className="flex flex-col gap-3">
      <form onSubmit={(e) => void search(e)} className="flex flex-wrap items-end gap-3">
        <Field label="Find similar records">
          {(id) => <Input id={id} value={query} onChange={(e) => setQuery(e.target.value)} placeholder="what are you looking for?" />}
        </Field>
        <Field label="Search mode">
          {(id) => (
            <Select id={id} value={mode} onChange={(e) => setMode(e.target.value as typeof mode)}>
              <option value="hybrid">hybrid</option>
              <option value="vector">vector</option>
              <option value="keyword">keyword</option>
            </Select>
          )}
        </Field>
        <Button type="submit">Search</Button>
      </form>
      {error && <p role="alert">{error}</p>}
      {results && (
        <Table
          label="Search results"
          rows={results}
          rowKey={(r) => r.id}
          columns={[
            { key: '_score', header: 'Score', cell: (r) => r._score.toFixed(3) },
            ...fields.map((f) => ({ key: f.name, header: f.name, cell: (r: RecordRow) => show(r[f.name]) })),
          ]}
        />
      )}
    </section>
  );
}

interface Version {
  version: number;
  change: unknown;
  actor: string | null;
  createdAt: string;
}

/** Every schema change of the model, newest first. */
export function VersionsPanel({ model }: { model: Model }) {
  const versions = useQuery({
    queryKey: ['model-versions', model.name, model.version],
    queryFn: () => api<{ data: Version[] }>('GET', `/models/${model.name}/versions`).then((r) => r.data),
  });
  return (
    <Table
      label="Schema versions"
      rows={versions.data ?? []}
      rowKey={(v) => String(v.version)}
      columns={[
        { key: 'v', header: 'Version', cell: (v) => `v${v.version}` },
        { key: 'at', header: 'When', cell: (v) => new Date(v.createdAt).toLocaleString() },
        { key: 'change', header: 'Change', cell: (v) => <code className="text-xs">{show(v.change).slice(0, 200)}</code> },
      ]}
    />
  );
}
