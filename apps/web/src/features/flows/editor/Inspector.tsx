import { type ReactNode, useEffect, useState } from 'react';
import { Button } from '../../../components/ui';
import { type RefOptions, SchemaForm } from './schema-form';
import type { LiveNodeRun } from '../live';
import { logText } from '../format';
import type { FlowNode, GraphProblem, NodeSettings, NodeType } from './types';

const json = (v: unknown) => JSON.stringify(v, null, 2);
const box = 'w-full rounded-md border border-zinc-300 bg-white px-2 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900';

/**
 * The selected node: its name, its parameters (a form from the node type's JSON Schema), retry
 * and error settings, pinned test data, and what it received and emitted in the last run.
 */
export function Inspector({
  node,
  def,
  problems,
  refs,
  run,
  readOnly,
  onChange,
  onDelete,
  connections,
}: {
  node: FlowNode;
  def: NodeType | undefined;
  problems: GraphProblem[];
  refs: RefOptions;
  run: LiveNodeRun | undefined;
  readOnly: boolean;
  onChange: (n: FlowNode) => void;
  onDelete: () => void;
  connections?: ReactNode;
}) {
  const errors: Record<string, string> = {};
  for (const p of problems) if (p.field && p.code === 'invalid_params') errors[p.field] ??= p.message.replace(`${node.name}: ${p.field}: `, '');
  const general = problems.filter((p) => !(p.field && p.code === 'invalid_params'));
  const setSettings = (s: Partial<NodeSettings>) => onChange({ ...node, settings: clean({ ...node.settings, ...s }) });
  return (
    <div className="flex flex-col gap-4 text-sm" aria-label={`Node ${node.name}`}>
      <div>
        <label className="flex flex-col gap-1 font-medium">
          Name
          <input className={box} value={node.name} disabled={readOnly} onChange={(e) => onChange({ ...node, name: e.target.value })} />
        </label>
        <p className="mt-1 text-xs text-zinc-600 dark:text-zinc-400">
          <code>{node.type}</code> · {def?.description}
        </p>
      </div>
      {general.map((p, i) => (
        <p key={i} role="alert" className="text-xs text-red-700 dark:text-red-400">
          {p.message}
        </p>
      ))}
      {def && Object.keys(def.params.properties ?? {}).length > 0 && (
        <section aria-label="Parameters" className="flex flex-col gap-2">
          <h3 className="font-semibold">Parameters</h3>
          <p className="text-xs text-zinc-600 dark:text-zinc-400">
            Text fields take expressions: <code>{'{{ $input.body.email }}'}</code>, <code>{'{{ $node["Fetch"].output }}'}</code>.
          </p>
          <SchemaForm
            schema={def.params}
            value={node.params}
            onChange={(params) => onChange({ ...node, params })}
            errors={errors}
            refs={refs}
            readOnly={readOnly}
          />
        </section>
      )}
      {def?.kind !== 'trigger' && (
        <details className="rounded-md border border-zinc-200 p-2 dark:border-zinc-800">
          <summary className="cursor-pointer font-semibold">Settings</summary>
          <div className="mt-2 grid grid-cols-2 gap-2">
            <NumberSetting label="Retries" value={node.settings?.retries} readOnly={readOnly} onChange={(retries) => setSettings({ retries })} />
            <NumberSetting
              label="First retry delay (ms)"
              value={node.settings?.retryDelayMs}
              readOnly={readOnly}
              onChange={(retryDelayMs) => setSettings({ retryDelayMs })}
            />
            <NumberSetting label="Timeout (ms)" value={node.settings?.timeoutMs} readOnly={readOnly} onChange={(timeoutMs) => setSettings({ timeoutMs })} />
            <label className="flex flex-col gap-1">
              On error
              <select
                className={box}
                disabled={readOnly}
                value={node.settings?.onError ?? 'fail'}
                onChange={(e) => setSettings({ onError: e.target.value as 'fail' | 'continue' })}
              >
                <option value="fail">fail the run</option>
                <option value="continue">continue with {'{error}'}</option>
              </select>
            </label>
            <label className="col-span-2 flex items-center gap-2">
              <input
                type="checkbox"
                disabled={readOnly}
                checked={Boolean(node.disabled)}
                onChange={(e) => onChange(clean({ ...node, disabled: e.target.checked || undefined }))}
              />
              Disabled (passes its input through)
            </label>
          </div>
        </details>
      )}
      {connections}
      <PinData node={node} lastOutput={run?.output} readOnly={readOnly} onChange={onChange} />
      {run && (
        <section aria-label="Last run" className="flex flex-col gap-2">
          <h3 className="font-semibold">
            Last run · {run.status} · {run.durationMs.toFixed(1)} ms{run.attempts > 1 ? ` · ${run.attempts} attempts` : ''}
          </h3>
          <h4 className="text-xs font-medium">Input</h4>
          <pre className="max-h-48 overflow-auto rounded bg-zinc-100 p-2 text-xs dark:bg-zinc-900" aria-label={`Input of ${node.name}`}>
            {json(run.input)}
          </pre>
          {logText(run.logs) && (
            <>
              <h4 className="text-xs font-medium">Log</h4>
              <pre className="max-h-40 overflow-auto rounded bg-zinc-100 p-2 text-xs dark:bg-zinc-900" aria-label={`Log of ${node.name}`}>
                {logText(run.logs)}
              </pre>
            </>
          )}
          <h4 className="text-xs font-medium">{run.error ? 'Error' : 'Output'}</h4>
          <pre
            className="max-h-64 overflow-auto rounded bg-zinc-100 p-2 text-xs dark:bg-zinc-900"
            aria-label={`Output of ${node.name}`}
            data-testid="node-output"
          >
            {json(run.error ?? run.output)}
          </pre>
        </section>
      )}
      {!readOnly && (
        <Button variant="danger" onClick={onDelete}>
          Delete node
        </Button>
      )}
    </div>
  );
}

function NumberSetting({
  label,
  value,
  readOnly,
  onChange,
}: {
  label: string;
  value: number | undefined;
  readOnly: boolean;
  onChange: (v: number | undefined) => void;
}) {
  return (
    <label className="flex flex-col gap-1">
      {label}
      <input
        className={box}
        type="number"
        min={0}
        disabled={readOnly}
        value={value ?? ''}
        onChange={(e) => onChange(e.target.value === '' ? undefined : Number(e.target.value))}
      />
    </label>
  );
}

/** Test data used instead of running the node in manual runs, so downstream nodes can be built without calling the real thing. */
function PinData({ node, lastOutput, readOnly, onChange }: { node: FlowNode; lastOutput: unknown; readOnly: boolean; onChange: (n: FlowNode) => void }) {
  const [text, setText] = useState(node.pinned === undefined ? '' : json(node.pinned));
  const [bad, setBad] = useState(false);
  useEffect(() => setText(node.pinned === undefined ? '' : json(node.pinned)), [node.id, node.pinned]);
  const pin = (v: unknown) => onChange({ ...node, pinned: v });
  return (
    <details className="rounded-md border border-zinc-200 p-2 dark:border-zinc-800" open={node.pinned !== undefined}>
      <summary className="cursor-pointer font-semibold">Pinned test data{node.pinned !== undefined ? ' (on)' : ''}</summary>
      <div className="mt-2 flex flex-col gap-2">
        <label className="sr-only" htmlFor={`pin-${node.id}`}>
          Pinned data (JSON)
        </label>
        <textarea
          id={`pin-${node.id}`}
          className={`${box} font-mono`}
          rows={4}
          disabled={readOnly}
          value={text}
          aria-invalid={bad || undefined}
          placeholder='{"body": {"email": "a@example.com"}}'
          onChange={(e) => setText(e.target.value)}
        />
        {bad && <p className="text-xs text-red-700 dark:text-red-400">Not valid JSON.</p>}
        {!readOnly && (
          <div className="flex flex-wrap gap-2">
            <Button
              variant="secondary"
              onClick={() => {
                try {
                  pin(JSON.parse(text) as unknown);
                  setBad(false);
                } catch {
                  setBad(true);
                }
              }}
            >
              Pin
            </Button>
            {lastOutput !== undefined && (
              <Button variant="secondary" onClick={() => pin(lastOutput)}>
                Pin last output
              </Button>
            )}
            {node.pinned !== undefined && (
              <Button variant="ghost" onClick={() => onChange(clean({ ...node, pinned: undefined }))}>
                Unpin
              </Button>
            )}
          </div>
        )}
      </div>
    </details>
  );
}

/** Drops keys whose value is undefined (the API is strict about shapes, not about absence). */
function clean<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
