import { useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { Button, Field, Input, Page, Select } from '../../components/ui';
import { ApiError, api } from '../../lib/api';
import { useAuth } from '../../lib/auth';
import { useToast } from '../../lib/toast';
import { OptionSelect } from '../../components/OptionSelect';
import { modelOptions, useActionOptions, useFlowOptions, useModels, useSecrets } from '../../lib/refs';
import { Playground } from './Playground';
import type { Agent, AgentDraft, AgentTool, Provider } from './types';

const BLANK: AgentDraft = {
  name: '',
  description: '',
  provider: 'openai',
  model: 'gpt-4o-mini',
  secretId: '',
  system: 'You are a helpful assistant.',
  personality: { empathy: 0.5, confidence: 0.5, style: 'neutral' },
  memory: 'session',
  memoryTokens: 4000,
  tools: [],
  maxSteps: 5,
  temperature: null,
  status: 'active',
};

const area = 'rounded-md border border-zinc-300 bg-white px-3 py-2 text-sm dark:border-zinc-700 dark:bg-zinc-900';

/** The agent builder (/agents/new, /agents/:id) with its playground chat beside it. */
export function AgentEditor() {
  const { id } = useParams();
  const agent = useQuery({ queryKey: ['agent', id], enabled: Boolean(id), queryFn: () => api<{ data: Agent }>('GET', `/agents/${id}`).then((r) => r.data) });
  if (id && !agent.data)
    return agent.isError ? (
      <p role="alert" className="p-6">
        {agent.error.message}
      </p>
    ) : (
      <p className="p-6" aria-busy="true">
        Loading the agent…
      </p>
    );
  return <Builder key={id ?? 'new'} initial={agent.data ?? null} />;
}

function Builder({ initial }: { initial: Agent | null }) {
  const { canEdit } = useAuth();
  const navigate = useNavigate();
  const client = useQueryClient();
  const toast = useToast();
  const [draft, setDraft] = useState<AgentDraft>(() => (initial ? strip(initial) : BLANK));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const set = <K extends keyof AgentDraft>(k: K, v: AgentDraft[K]) => setDraft((d) => ({ ...d, [k]: v }));
  const secrets = useSecrets(canEdit);
  const flows = useFlowOptions();
  const actions = useActionOptions();
  const models = useModels();

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setErrors({});
    try {
      // If-Match: saving over a version someone else saved since is refused (412), not overwritten.
      const r = initial
        ? await api<{ data: Agent }>('PATCH', `/agents/${initial.id}`, draft, { ifMatch: initial.version })
        : await api<{ data: Agent }>('POST', '/agents', draft);
      toast('success', initial ? 'Agent saved.' : 'Agent created.');
      await client.invalidateQueries({ queryKey: ['agents'] });
      client.setQueryData(['agent', r.data.id], r.data);
      if (!initial) void navigate(`/agents/${r.data.id}`);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      setErrors(err.fieldErrors());
      toast('error', err.message);
    }
  };

  const setTool = (i: number, t: AgentTool) =>
    set(
      'tools',
      draft.tools.map((x, j) => (j === i ? t : x)),
    );
  const matching = (secrets.data ?? []).filter((s) => s.provider === draft.provider);

  return (
    <Page title={initial ? initial.name : 'New agent'}>
      <div className="grid gap-6 xl:grid-cols-2">
        <form onSubmit={(e) => void save(e)} className="flex flex-col gap-4" noValidate aria-label="Agent">
          <fieldset disabled={!canEdit} className="contents">
            <Field label="Name" error={errors.name}>
              {(id, d) => <Input id={id} aria-describedby={d} value={draft.name} onChange={(e) => set('name', e.target.value)} />}
            </Field>
            <div className="grid gap-3 sm:grid-cols-3">
              <Field label="Provider">
                {(id) => (
                  <Select id={id} value={draft.provider} onChange={(e) => set('provider', e.target.value as Provider)}>
                    <option value="openai">OpenAI</option>
                    <option value="anthropic">Anthropic</option>
                    <option value="google">Google Gemini</option>
                    <option value="openai-compatible">OpenAI-compatible (Ollama, vLLM…)</option>
                  </Select>
                )}
              </Field>
              <Field label="Model" error={errors.model}>
                {(id, d) => <Input id={id} aria-describedby={d} value={draft.model} onChange={(e) => set('model', e.target.value)} />}
              </Field>
              <Field
                label="Key from the vault"
                error={errors.secretId}
                hint={matching.length ? undefined : `Store a ${draft.provider} key in the Vault first.`}
              >
                {(id, d) => (
                  <OptionSelect
                    id={id}
                    aria-describedby={d}
                    empty="choose a key…"
                    options={matching.map((s) => ({ value: s.id, label: s.name }))}
                    value={draft.secretId}
                    onValue={(v) => set('secretId', v)}
                  />
                )}
              </Field>
            </div>
            <Field label="System prompt" error={errors.system}>
              {(id, d) => (
                <textarea id={id} aria-describedby={d} rows={5} className={area} value={draft.system} onChange={(e) => set('system', e.target.value)} />
              )}
            </Field>
            <fieldset className="grid gap-3 rounded-md border border-zinc-200 p-3 sm:grid-cols-3 dark:border-zinc-800">
              <legend className="px-1 text-sm font-medium">Personality</legend>
              <Slider label="Empathy" value={draft.personality.empathy} onChange={(v) => set('personality', { ...draft.personality, empathy: v })} />
              <Slider label="Confidence" value={draft.personality.confidence} onChange={(v) => set('personality', { ...draft.personality, confidence: v })} />
              <Field label="Style">
                {(id) => (
                  <Input
                    id={id}
                    value={draft.personality.style}
                    onChange={(e) => set('personality', { ...draft.personality, style: e.target.value })}
                    placeholder="friendly, concise"
                  />
                )}
              </Field>
            </fieldset>
            <div className="grid gap-3 sm:grid-cols-4">
              <Field label="Memory">
                {(id) => (
                  <Select id={id} value={draft.memory} onChange={(e) => set('memory', e.target.value as AgentDraft['memory'])}>
                    <option value="session">this conversation</option>
                    <option value="long_term">long-term (recalls past conversations)</option>
                  </Select>
                )}
              </Field>
              <Field label="History budget (tokens)" error={errors.memoryTokens}>
                {(id, d) => (
                  <Input
                    id={id}
                    aria-describedby={d}
                    type="number"
                    min={200}
                    value={draft.memoryTokens}
                    onChange={(e) => set('memoryTokens', Number(e.target.value))}
                  />
                )}
              </Field>
              <Field label="Max tool steps" error={errors.maxSteps}>
                {(id, d) => (
                  <Input
                    id={id}
                    aria-describedby={d}
                    type="number"
                    min={1}
                    max={20}
                    value={draft.maxSteps}
                    onChange={(e) => set('maxSteps', Number(e.target.value))}
                  />
                )}
              </Field>
              <Field label="Status">
                {(id) => (
                  <Select id={id} value={draft.status} onChange={(e) => set('status', e.target.value as AgentDraft['status'])}>
                    <option value="active">active (answers)</option>
                    <option value="paused">paused</option>
                  </Select>
                )}
              </Field>
            </div>
            <fieldset className="flex flex-col gap-2 rounded-md border border-zinc-200 p-3 dark:border-zinc-800">
              <legend className="px-1 text-sm font-medium">Tools</legend>
              {draft.tools.length === 0 && (
                <p className="text-sm text-zinc-600 dark:text-zinc-400">No tools: the agent only talks. Give it flows, actions or a search over your data.</p>
              )}
              {draft.tools.map((t, i) => (
                <div key={i} className="flex flex-wrap items-end gap-2" role="group" aria-label={`Tool ${i + 1}`}>
                  <span className="w-16 text-sm font-medium">{t.kind}</span>
                  {(t.kind === 'flow' || t.kind === 'action') && (
                    <Field label={`Tool ${i + 1} ${t.kind}`}>
                      {(id) => (
                        <OptionSelect
                          id={id}
                          options={t.kind === 'flow' ? flows.data : actions.data}
                          value={t.ref}
                          onValue={(v) => setTool(i, { ...t, ref: v })}
                        />
                      )}
                    </Field>
                  )}
                  {t.kind === 'search' && (
                    <>
                      <Field label={`Tool ${i + 1} model`}>
                        {(id) => <OptionSelect id={id} options={modelOptions(models.data)} value={t.model} onValue={(v) => setTool(i, { ...t, model: v })} />}
                      </Field>
                      <Field label={`Tool ${i + 1} results`}>
                        {(id) => (
                          <Input id={id} type="number" min={1} max={50} value={t.k ?? 5} onChange={(e) => setTool(i, { ...t, k: Number(e.target.value) })} />
                        )}
                      </Field>
                    </>
                  )}
                  {t.kind === 'http' && (
                    <Field label={`Tool ${i + 1} allowed base URL`}>
                      {(id) => (
                        <Input
                          id={id}
                          value={t.ref ?? ''}
                          placeholder="https://api.example.com/"
                          onChange={(e) => setTool(i, { ...t, ...(e.target.value ? { ref: e.target.value } : { ref: undefined }) })}
                        />
                      )}
                    </Field>
                  )}
                  {t.kind === 'mcp' && (
                    <>
                      <Field label={`Tool ${i + 1} MCP server URL`} error={errors[`tools.${i}.url`]}>
                        {(id, d) => (
                          <Input
                            id={id}
                            aria-describedby={d}
                            value={t.url}
                            placeholder="https://mcp.example.com/mcp"
                            onChange={(e) => setTool(i, { ...t, url: e.target.value })}
                          />
                        )}
                      </Field>
                      <Field label={`Tool ${i + 1} bearer token`} error={errors[`tools.${i}.secretId`]}>
                        {(id, d) => (
                          <OptionSelect
                            id={id}
                            aria-describedby={d}
                            empty="none"
                            options={(secrets.data ?? []).map((s) => ({ value: s.id, label: s.name }))}
                            value={t.secretId ?? ''}
                            onValue={(v) => setTool(i, { ...t, secretId: v || undefined })}
                          />
                        )}
                      </Field>
                      <Field label={`Tool ${i + 1} name prefix`}>
                        {(id) => (
                          <Input id={id} value={t.name ?? ''} placeholder="crm" onChange={(e) => setTool(i, { ...t, name: e.target.value || undefined })} />
                        )}
                      </Field>
                    </>
                  )}
                  <Button
                    variant="ghost"
                    aria-label={`Remove tool ${i + 1}`}
                    onClick={() =>
                      set(
                        'tools',
                        draft.tools.filter((_, j) => j !== i),
                      )
                    }
                  >
                    ✕
                  </Button>
                  {errors[`tools.${i}.ref`] && <p className="w-full text-xs text-red-700 dark:text-red-400">{errors[`tools.${i}.ref`]}</p>}
                </div>
              ))}
              <div className="flex flex-wrap gap-2">
                <Button variant="secondary" onClick={() => set('tools', [...draft.tools, { kind: 'flow', ref: '' }])}>
                  + Flow
                </Button>
                <Button variant="secondary" onClick={() => set('tools', [...draft.tools, { kind: 'action', ref: '' }])}>
                  + Action
                </Button>
                <Button variant="secondary" onClick={() => set('tools', [...draft.tools, { kind: 'search', model: '', k: 5, mode: 'hybrid' }])}>
                  + Search
                </Button>
                <Button variant="secondary" onClick={() => set('tools', [...draft.tools, { kind: 'http' }])}>
                  + HTTP
                </Button>
                <Button variant="secondary" onClick={() => set('tools', [...draft.tools, { kind: 'mcp', url: '' }])}>
                  + MCP server
                </Button>
              </div>
            </fieldset>
            {canEdit && (
              <div>
                <Button type="submit">{initial ? 'Save agent' : 'Create agent'}</Button>
              </div>
            )}
          </fieldset>
        </form>
        {initial ? <Playground agent={initial} /> : <p className="text-sm text-zinc-600 dark:text-zinc-400">Create the agent to chat with it here.</p>}
      </div>
    </Page>
  );
}

function Slider({ label, value, onChange }: { label: string; value: number; onChange: (v: number) => void }) {
  return (
    <Field label={`${label}: ${value.toFixed(2)}`}>
      {(id) => (
        <input
          id={id}
          type="range"
          min={0}
          max={1}
          step={0.05}
          value={value}
          onChange={(e) => onChange(Number(e.target.value))}
          aria-valuetext={value.toFixed(2)}
        />
      )}
    </Field>
  );
}

/** The editable part of an agent (what POST and PATCH take). */
function strip(a: Agent): AgentDraft {
  const { name, description, provider, model, secretId, system, personality, memory, memoryTokens, tools, maxSteps, temperature, status } = a;
  return { name, description, provider, model, secretId, system, personality, memory, memoryTokens, tools, maxSteps, temperature, status };
}
