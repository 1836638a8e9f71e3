import { useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { Alert, Button, Empty, Field, Input, Page, Select, Table } from '../../components/ui';
import { ApiError, api } from '../../lib/api';
import { useAuth } from '../../lib/auth';
import { useToast } from '../../lib/toast';
import { OptionSelect } from '../../components/OptionSelect';
import { modelOptions, useModels } from '../../lib/refs';

type ParamType = 'string' | 'integer' | 'number' | 'boolean' | 'json';
interface Param {
  name: string;
  type: ParamType;
  required?: boolean;
  description?: string;
  default?: unknown;
  value?: unknown;
}
type Op = 'create' | 'update' | 'upsert' | 'delete' | 'query';
interface Step {
  id: string;
  op: Op;
  model: string;
  values?: Record<string, unknown>;
  recordId?: string;
  key?: string;
  filter?: unknown;
  sort?: string;
  limit?: number;
}
interface Action {
  id: string;
  name: string;
  description: string;
  params: Param[];
  steps: Step[];
  version: number;
  updatedAt: string;
}
interface Run {
  id: string;
  status: string;
  input: unknown;
  output: unknown;
  error: { step?: string; message?: string } | null;
  durationMs: number | null;
  createdAt: string;
}

/** Pre-configured multi-model actions. */
export function Actions() {
  const { canEdit } = useAuth();
  const list = useQuery({ queryKey: ['actions'], queryFn: () => api<{ data: Action[] }>('GET', '/actions?limit=200').then((r) => r.data) });
  return (
    <Page
      title="Actions"
      actions={
        canEdit && (
          <Link to="/actions/new" className="rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500">
            New action
          </Link>
        )
      }
    >
      {list.isError && <p role="alert">{list.error.message}</p>}
      {list.data?.length === 0 && <Empty>No actions yet. An action runs several record changes as one transaction, with parameters filled in per run.</Empty>}
      {Boolean(list.data?.length) && (
        <Table
          rows={list.data!}
          rowKey={(a) => a.id}
          columns={[
            {
              key: 'name',
              header: 'Name',
              cell: (a) => (
                <Link className="text-indigo-700 underline dark:text-indigo-300" to={`/actions/${a.id}`}>
                  {a.name}
                </Link>
              ),
            },
            { key: 'steps', header: 'Steps', cell: (a) => a.steps.map((s) => `${s.op} ${s.model}`).join(' → ') },
            {
              key: 'params',
              header: 'Parameters',
              cell: (a) =>
                a.params
                  .filter((p) => p.value === undefined)
                  .map((p) => p.name)
                  .join(', '),
            },
            { key: 'at', header: 'Updated', cell: (a) => new Date(a.updatedAt).toLocaleString() },
          ]}
        />
      )}
    </Page>
  );
}

const area = 'rounded-md border border-zinc-300 bg-white px-3 py-2 font-mono text-sm dark:border-zinc-700 dark:bg-zinc-900';
const STEP_FIELDS: Record<Op, ('values' | 'recordId' | 'key' | 'filter')[]> = {
  create: ['values'],
  update: ['recordId', 'values'],
  upsert: ['key', 'values'],
  delete: ['recordId'],
  query: ['filter'],
};

/** Builder (/actions/new, /actions/:id), run form for the remaining parameters, and runs history. */
export function ActionEditor() {
  const { id } = useParams();
  const action = useQuery({
    queryKey: ['action', id],
    enabled: Boolean(id),
    queryFn: () => api<{ data: Action }>('GET', `/actions/${id}`).then((r) => r.data),
  });
  if (id && !action.data)
    return action.isError ? (
      <p role="alert" className="p-6">
        {action.error.message}
      </p>
    ) : (
      <p className="p-6" aria-busy="true">
        Loading…
      </p>
    );
  return <ActionBuilder key={id ?? 'new'} initial={action.data ?? null} />;
}

function ActionBuilder({ initial }: { initial: Action | null }) {
  const { canEdit } = useAuth();
  const toast = useToast();
  const navigate = useNavigate();
  const client = useQueryClient();
  const [name, setName] = useState(initial?.name ?? '');
  const [params, setParams] = useState<Param[]>(initial?.params ?? []);
  const [steps, setSteps] = useState<(Step & { text?: Record<string, string> })[]>(initial?.steps ?? [{ id: 'step1', op: 'create', model: '', values: {} }]);
  const [message, setMessage] = useState('');
  const models = useModels();

  const setStep = (i: number, patch: Partial<Step>) => setSteps((ss) => ss.map((s, j) => (j === i ? { ...s, ...patch } : s)));
  const setParam = (i: number, patch: Partial<Param>) => setParams((ps) => ps.map((p, j) => (j === i ? { ...p, ...patch } : p)));

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setMessage('');
    let body;
    try {
      body = {
        name,
        params,
        steps: steps.map(({ text, ...s }) => ({
          ...s,
          ...Object.fromEntries(Object.entries(text ?? {}).map(([k, v]) => [k, v.trim() ? (JSON.parse(v) as unknown) : undefined])),
        })),
      };
    } catch {
      return setMessage('A step’s values or filter is not valid JSON.');
    }
    try {
      // If-Match: saving over a version someone else saved since is refused (412), not overwritten.
      const r = initial
        ? await api<{ data: Action }>('PATCH', `/actions/${initial.id}`, body, { ifMatch: initial.version })
        : await api<{ data: Action }>('POST', '/actions', body);
      toast('success', 'Action saved.');
      await client.invalidateQueries({ queryKey: ['actions'] });
      client.setQueryData(['action', r.data.id], r.data);
      if (!initial) void navigate(`/actions/${r.data.id}`);
    } catch (err) {
      setMessage(err instanceof ApiError ? err.message : 'Saving failed.');
    }
  };

  return (
    <Page title={initial ? initial.name : 'New action'}>
      <div className="grid gap-6 xl:grid-cols-2">
        <form onSubmit={(e) => void save(e)} className="flex flex-col gap-4" noValidate aria-label="Action">
          <fieldset disabled={!canEdit} className="contents">
            <Field label="Action name">{(id) => <Input id={id} value={name} onChange={(e) => setName(e.target.value)} />}</Field>
            <fieldset className="flex flex-col gap-2 rounded-md border border-zinc-200 p-3 dark:border-zinc-800">
              <legend className="px-1 text-sm font-medium">Parameters</legend>
              <p className="text-xs text-zinc-600 dark:text-zinc-400">
                Refer to them in steps as {'{{params.name}}'}; a fixed value cannot be changed by callers.
              </p>
              {params.map((p, i) => (
                <div key={i} className="flex flex-wrap items-end gap-2" role="group" aria-label={`Parameter ${i + 1}`}>
                  <Field label={`Parameter ${i + 1} name`}>
                    {(id) => <Input id={id} value={p.name} onChange={(e) => setParam(i, { name: e.target.value })} />}
                  </Field>
                  <Field label={`Parameter ${i + 1} type`}>
                    {(id) => (
                      <Select id={id} value={p.type} onChange={(e) => setParam(i, { type: e.target.value as ParamType })}>
                        {['string', 'integer', 'number', 'boolean', 'json'].map((t) => (
                          <option key={t}>{t}</option>
                        ))}
                      </Select>
                    )}
                  </Field>
                  <label className="flex items-center gap-1 text-sm">
                    <input type="checkbox" checked={Boolean(p.required)} onChange={(e) => setParam(i, { required: e.target.checked || undefined })} /> required
                  </label>
                  <Field label={`Parameter ${i + 1} fixed value`}>
                    {(id) => (
                      <Input
                        id={id}
                        value={p.value === undefined ? '' : JSON.stringify(p.value)}
                        placeholder="(per run)"
                        onChange={(e) => setParam(i, { value: e.target.value ? typed(p.type, e.target.value) : undefined })}
                      />
                    )}
                  </Field>
                  <Button variant="ghost" aria-label={`Remove parameter ${i + 1}`} onClick={() => setParams((ps) => ps.filter((_, j) => j !== i))}>
                    ✕
                  </Button>
                </div>
              ))}
              <div>
                <Button variant="secondary" onClick={() => setParams((ps) => [...ps, { name: `param${ps.length + 1}`, type: 'string', required: true }])}>
                  Add parameter
                </Button>
              </div>
            </fieldset>
            <fieldset className="flex flex-col gap-3 rounded-md border border-zinc-200 p-3 dark:border-zinc-800">
              <legend className="px-1 text-sm font-medium">Steps (one transaction)</legend>
              <p className="text-xs text-zinc-600 dark:text-zinc-400">A step can use an earlier one’s result: {'{{steps.step1.id}}'}.</p>
              {steps.map((s, i) => (
                <div key={i} className="flex flex-col gap-2 rounded border border-zinc-200 p-2 dark:border-zinc-800" role="group" aria-label={`Step ${i + 1}`}>
                  <div className="flex flex-wrap items-end gap-2">
                    <Field label={`Step ${i + 1} id`}>{(id) => <Input id={id} value={s.id} onChange={(e) => setStep(i, { id: e.target.value })} />}</Field>
                    <Field label={`Step ${i + 1} operation`}>
                      {(id) => (
                        <Select id={id} value={s.op} onChange={(e) => setStep(i, { op: e.target.value as Op })}>
                          {(['create', 'update', 'upsert', 'delete', 'query'] as const).map((o) => (
                            <option key={o}>{o}</option>
                          ))}
                        </Select>
                      )}
                    </Field>
                    <Field label={`Step ${i + 1} model`}>
                      {(id) => <OptionSelect id={id} options={modelOptions(models.data)} value={s.model} onValue={(v) => setStep(i, { model: v })} />}
                    </Field>
                    {steps.length > 1 && (
                      <Button variant="ghost" aria-label={`Remove step ${i + 1}`} onClick={() => setSteps((ss) => ss.filter((_, j) => j !== i))}>
                        ✕
                      </Button>
                    )}
                  </div>
                  {STEP_FIELDS[s.op].map((k) =>
                    k === 'values' || k === 'filter' ? (
                      <Field key={k} label={`Step ${i + 1} ${k} (JSON)`}>
                        {(id) => (
                          <textarea
                            id={id}
                            rows={3}
                            className={area}
                            value={s.text?.[k] ?? (s[k] === undefined ? '' : JSON.stringify(s[k], null, 2))}
                            placeholder={k === 'values' ? '{"email": "{{params.email}}"}' : '{"status": {"eq": "open"}}'}
                            onChange={(e) => setSteps((ss) => ss.map((x, j) => (j === i ? { ...x, text: { ...x.text, [k]: e.target.value } } : x)))}
                          />
                        )}
                      </Field>
                    ) : (
                      <Field key={k} label={`Step ${i + 1} ${k === 'recordId' ? 'record id' : 'key field'}`}>
                        {(id) => (
                          <Input
                            id={id}
                            value={s[k] ?? ''}
                            placeholder={k === 'recordId' ? '{{params.id}}' : 'email'}
                            onChange={(e) => setStep(i, { [k]: e.target.value })}
                          />
                        )}
                      </Field>
                    ),
                  )}
                </div>
              ))}
              <div>
                <Button variant="secondary" onClick={() => setSteps((ss) => [...ss, { id: `step${ss.length + 1}`, op: 'create', model: '', values: {} }])}>
                  Add step
                </Button>
              </div>
            </fieldset>
            <Alert>{message}</Alert>
            {canEdit && (
              <div>
                <Button type="submit">Save action</Button>
              </div>
            )}
          </fieldset>
        </form>
        {initial && <RunAction action={initial} />}
      </div>
    </Page>
  );
}

/** A parameter value typed from the text box (numbers, booleans, JSON). */
function typed(type: ParamType, raw: string): unknown {
  if (type === 'integer' || type === 'number') return Number.isFinite(Number(raw)) ? Number(raw) : raw;
  if (type === 'boolean') return raw === 'true';
  if (type === 'json') {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return raw;
    }
  }
  return raw;
}

function RunAction({ action }: { action: Action }) {
  const { canEdit } = useAuth();
  const client = useQueryClient();
  const open = action.params.filter((p) => p.value === undefined);
  const [values, setValues] = useState<Record<string, string>>({});
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const runs = useQuery({
    queryKey: ['action-runs', action.id],
    queryFn: () => api<{ data: Run[] }>('GET', `/actions/${action.id}/runs?limit=20`).then((r) => r.data),
  });
  const run = async (e: FormEvent) => {
    e.preventDefault();
    const params = Object.fromEntries(
      open.filter((p) => values[p.name] !== undefined && values[p.name] !== '').map((p) => [p.name, typed(p.type, values[p.name]!)]),
    );
    try {
      const r = await api<{ data: Run }>('POST', `/actions/${action.id}/run`, { params });
      setResult({ ok: true, text: JSON.stringify(r.data.output, null, 2) });
    } catch (err) {
      setResult({ ok: false, text: err instanceof ApiError ? err.message : 'The run failed.' });
    }
    await client.invalidateQueries({ queryKey: ['action-runs', action.id] });
  };
  return (
    <section aria-label="Run" className="flex flex-col gap-4">
      {canEdit && (
        <form onSubmit={(e) => void run(e)} className="flex flex-col gap-3 rounded-lg border border-zinc-200 p-3 dark:border-zinc-800">
          <h2 className="font-semibold">Run</h2>
          {open.length === 0 && <p className="text-sm">No parameters to fill in.</p>}
          {open.map((p) => (
            <Field key={p.name} label={`${p.name}${p.required ? ' *' : ''}`} hint={p.description ?? p.type}>
              {(id) => <Input id={id} value={values[p.name] ?? ''} onChange={(e) => setValues((v) => ({ ...v, [p.name]: e.target.value }))} />}
            </Field>
          ))}
          <div>
            <Button type="submit">Run action</Button>
          </div>
          {result && (
            <pre
              role="status"
              data-testid="action-result"
              className={`overflow-auto rounded p-2 text-xs ${result.ok ? 'bg-zinc-100 dark:bg-zinc-900' : 'bg-red-100 text-red-900 dark:bg-red-950 dark:text-red-200'}`}
            >
              {result.text}
            </pre>
          )}
        </form>
      )}
      <h2 className="font-semibold">Runs</h2>
      <Table
        rows={runs.data ?? []}
        rowKey={(r) => r.id}
        columns={[
          { key: 'at', header: 'When', cell: (r) => new Date(r.createdAt).toLocaleString() },
          { key: 'status', header: 'Status', cell: (r) => <span className={r.status === 'failed' ? 'text-red-700 dark:text-red-400' : ''}>{r.status}</span> },
          { key: 'ms', header: 'ms', cell: (r) => (r.durationMs === null ? '' : Math.round(r.durationMs)) },
          { key: 'err', header: 'Error', cell: (r) => (r.error ? `${r.error.step ?? ''}: ${r.error.message ?? ''}` : '') },
        ]}
      />
    </section>
  );
}
