import { type FormEvent, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import { IDENTIFIER_RE, toIdentifier } from '@infinity/contracts/names';
import { ApiError, api } from '../../lib/api';
import { Alert, Button, Field, Input, Page, Select } from '../../components/ui';
import { FIELD_TYPES, type FieldDef } from './types';
import { OptionSelect } from '../../components/OptionSelect';
import { modelOptions, useModels } from '../../lib/refs';

interface Draft {
  name: string;
  type: FieldDef['type'];
  required: boolean;
  unique: boolean;
  values: string;
  target: string;
  kind: 'many-to-one' | 'one-to-one';
  onDelete: 'cascade' | 'set null' | 'restrict';
}

const blank = (): Draft => ({ name: '', type: 'string', required: false, unique: false, values: '', target: '', kind: 'many-to-one', onDelete: 'restrict' });

/**
 * What a typed name is saved as (the server applies the same rule, contracts/names.ts): "First
 * Name" → first_name, the typed text kept as the label.
 */
function savedAs(typed: string, otherwise: string): string {
  const id = toIdentifier(typed.trim());
  if (!typed.trim()) return otherwise;
  if (!IDENTIFIER_RE.test(id)) return 'Use letters, digits and spaces (it needs a letter a–z to make its name from).';
  return id === typed ? `Saved as ${id}.` : `Saved as ${id}, labelled “${typed.trim()}”.`;
}

/** A model designer for the common case: name, fields with type and options. */
export function NewModel() {
  const navigate = useNavigate();
  const client = useQueryClient();
  const [name, setName] = useState('');
  const [fields, setFields] = useState<Draft[]>([blank()]);
  const models = useModels();
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const update = (i: number, patch: Partial<Draft>) => setFields((fs) => fs.map((f, j) => (j === i ? { ...f, ...patch } : f)));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setErrors({});
    setMessage(null);
    const body = {
      name,
      fields: fields.map((f) => ({
        name: f.name,
        type: f.type,
        ...(f.required ? { required: true } : {}),
        ...(f.unique ? { unique: true } : {}),
        ...(f.type === 'enum'
          ? {
              values: f.values
                .split(',')
                .map((v) => v.trim())
                .filter(Boolean),
            }
          : {}),
        ...(f.type === 'relation' ? { target: f.target, kind: f.kind, onDelete: f.onDelete } : {}),
      })),
    };
    try {
      const made = await api<{ data: { name: string } }>('POST', '/models', body);
      await client.invalidateQueries({ queryKey: ['models'] });
      void navigate(`/data/${made.data.name}`);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      setErrors(err.fieldErrors());
      setMessage(err.message);
    }
  };

  return (
    <Page title="New model">
      <form onSubmit={(e) => void submit(e)} className="flex max-w-3xl flex-col gap-5" noValidate>
        <Field
          label="Model name"
          error={errors.name}
          hint={savedAs(name, 'Name it as you like, e.g. Customers: the API and URLs use customers, your text is its label.')}
        >
          {(id, d) => (
            <Input id={id} aria-describedby={d} aria-invalid={Boolean(errors.name)} value={name} onChange={(e) => setName(e.target.value)} required />
          )}
        </Field>
        <fieldset className="flex flex-col gap-3">
          <legend className="mb-2 text-sm font-medium">Fields</legend>
          {fields.map((f, i) => (
            <div key={i} className="flex flex-wrap items-end gap-3 rounded-md border border-zinc-200 p-3 dark:border-zinc-800">
              <Field label={`Field ${i + 1} name`} error={errors[`fields.${i}.name`]} hint={savedAs(f.name, 'e.g. First Name')}>
                {(id, d) => <Input id={id} aria-describedby={d} value={f.name} onChange={(e) => update(i, { name: e.target.value })} />}
              </Field>
              <Field label={`Field ${i + 1} type`}>
                {(id) => (
                  <Select id={id} value={f.type} onChange={(e) => update(i, { type: e.target.value as FieldDef['type'] })}>
                    {FIELD_TYPES.map((t) => (
                      <option key={t}>{t}</option>
                    ))}
                  </Select>
                )}
              </Field>
              {f.type === 'enum' && (
                <Field label="Values" hint="Comma separated" error={errors[`fields.${i}.values`]}>
                  {(id, d) => <Input id={id} aria-describedby={d} value={f.values} onChange={(e) => update(i, { values: e.target.value })} />}
                </Field>
              )}
              {f.type === 'relation' && (
                <>
                  <Field label={`Field ${i + 1} target`} error={errors[`fields.${i}.target`]}>
                    {(id, d) => (
                      <OptionSelect
                        id={id}
                        aria-describedby={d}
                        empty="choose a model…"
                        options={[...modelOptions(models.data), ...(name ? [{ value: toIdentifier(name), label: `${name} (this model)` }] : [])]}
                        value={f.target}
                        onValue={(v) => update(i, { target: v })}
                      />
                    )}
                  </Field>
                  <Field label={`Field ${i + 1} kind`}>
                    {(id) => (
                      <Select id={id} value={f.kind} onChange={(e) => update(i, { kind: e.target.value as Draft['kind'] })}>
                        <option value="many-to-one">many-to-one (many of these belong to one)</option>
                        <option value="one-to-one">one-to-one</option>
                      </Select>
                    )}
                  </Field>
                  <Field label={`Field ${i + 1} on delete`} error={errors[`fields.${i}.onDelete`]}>
                    {(id, d) => (
                      <Select id={id} aria-describedby={d} value={f.onDelete} onChange={(e) => update(i, { onDelete: e.target.value as Draft['onDelete'] })}>
                        <option value="restrict">restrict (refuse deleting the target)</option>
                        <option value="cascade">cascade (delete these too)</option>
                        <option value="set null">set null</option>
                      </Select>
                    )}
                  </Field>
                </>
              )}
              <label className="flex items-center gap-2 text-sm">
                <input type="checkbox" checked={f.required} onChange={(e) => update(i, { required: e.target.checked })} /> Required
              </label>
              <label className="flex items-center gap-2 text-sm">
                <input type="checkbox" checked={f.unique} onChange={(e) => update(i, { unique: e.target.checked })} /> Unique
              </label>
              {fields.length > 1 && (
                <Button variant="ghost" onClick={() => setFields((fs) => fs.filter((_, j) => j !== i))} aria-label={`Remove field ${i + 1}`}>
                  Remove
                </Button>
              )}
            </div>
          ))}
          <div>
            <Button variant="secondary" onClick={() => setFields((fs) => [...fs, blank()])}>
              Add field
            </Button>
          </div>
        </fieldset>
        <Alert>{message}</Alert>
        <div>
          <Button type="submit">Create model</Button>
        </div>
      </form>
    </Page>
  );
}
