import { type FormEvent, useState } from 'react';
import { ApiError, api } from '../../lib/api';
import { useModels } from '../../lib/refs';
import { Alert, Button, Field, Input, Modal, Select } from '../../components/ui';
import { WEBHOOK_EVENT_TYPES, eventLabel } from './format';
import type { WebhookSubscription } from './types';

type Created = WebhookSubscription & { secret: string };

const RECORD_EVENTS = WEBHOOK_EVENT_TYPES.filter((e) => e.startsWith('record.'));
const OTHER_EVENTS = WEBHOOK_EVENT_TYPES.filter((e) => !e.startsWith('record.'));

/** Which field a server error is about (the create answers one code per kind of problem). */
const FIELD_OF_CODE: Record<string, string> = {
  WEBHOOK_TARGET_REFUSED: 'url',
  WEBHOOK_EVENT_UNKNOWN: 'events',
  WEBHOOK_MODEL_INVALID: 'model',
  WEBHOOK_FILTER_INVALID: 'filter',
};

/**
 * Subscribing a URL to events: which events (record events need a model, and may have a filter in
 * the records filter language), a description. The server checks everything; its answer is shown
 * under the field it is about.
 */
export function NewWebhook({ onClose, onCreated }: { onClose: () => void; onCreated: (w: Created) => void }) {
  const models = useModels();
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<string[]>([]);
  const [model, setModel] = useState('');
  const [filter, setFilter] = useState('');
  const [description, setDescription] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState('');
  const [busy, setBusy] = useState(false);
  const forRecords = events.some((e) => e.startsWith('record.'));

  const toggle = (e: string, on: boolean) => setEvents((xs) => (on ? [...xs, e] : xs.filter((x) => x !== e)));

  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    setErrors({});
    setFailure('');
    let parsed: unknown;
    if (forRecords && filter.trim()) {
      try {
        parsed = JSON.parse(filter) as unknown;
      } catch {
        return setErrors({ filter: 'Not valid JSON: write the filter as a JSON object, e.g. {"status": {"eq": "paid"}}.' });
      }
    }
    const body = {
      url: url.trim(),
      events,
      ...(forRecords && model ? { model } : {}),
      ...(parsed !== undefined ? { filter: parsed } : {}),
      ...(description.trim() ? { description: description.trim() } : {}),
    };
    setBusy(true);
    try {
      onCreated((await api<{ data: Created }>('POST', '/webhooks', body)).data);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      const field = FIELD_OF_CODE[e.code];
      const byField = field ? { [field]: e.message } : e.fieldErrors();
      setErrors(byField);
      if (!Object.keys(byField).length) setFailure(e.message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal title="New webhook" onClose={onClose} wide>
      <form onSubmit={(e) => void submit(e)} className="flex flex-col gap-4" aria-label="New webhook" noValidate>
        <Field label="URL" error={errors.url} hint="Receives a signed POST for every event (Standard Webhooks).">
          {(id, d) => (
            <Input
              id={id}
              type="url"
              value={url}
              onChange={(e) => setUrl(e.target.value)}
              placeholder="https://hooks.example.com/infinity"
              aria-describedby={d}
              aria-invalid={Boolean(errors.url)}
              required
              autoFocus
            />
          )}
        </Field>
        <fieldset className="flex flex-col gap-1" aria-describedby={errors.events ? 'events-err' : 'events-hint'}>
          <legend className="mb-1 text-sm font-medium">Events</legend>
          <div className="grid grid-cols-2 gap-x-6 gap-y-1">
            {[RECORD_EVENTS, OTHER_EVENTS].map((group, i) => (
              <div key={i} className="flex flex-col gap-1">
                {group.map((e) => {
                  // Record events are about one model: they make a subscription of their own.
                  const other = e.startsWith('record.') ? events.some((x) => !x.startsWith('record.')) : forRecords;
                  return (
                    <label key={e} title={e} className={`flex items-center gap-2 text-sm ${other ? 'text-zinc-400 dark:text-zinc-600' : ''}`}>
                      <input type="checkbox" checked={events.includes(e)} disabled={other} onChange={(x) => toggle(e, x.target.checked)} />
                      {eventLabel(e)}
                    </label>
                  );
                })}
              </div>
            ))}
          </div>
          {errors.events ? (
            <p id="events-err" className="text-xs text-red-700 dark:text-red-400">
              {errors.events}
            </p>
          ) : (
            <p id="events-hint" className="text-xs text-zinc-600 dark:text-zinc-400">
              Record events are about one model and go in a webhook of their own.
            </p>
          )}
        </fieldset>
        {forRecords && (
          <>
            <Field label="Model" error={errors.model} hint="Record events are about the records of one model.">
              {(id, d) => (
                <Select id={id} value={model} onChange={(e) => setModel(e.target.value)} aria-describedby={d} aria-invalid={Boolean(errors.model)}>
                  <option value="">Choose a model…</option>
                  {(models.data ?? []).map((m) => (
                    <option key={m.name} value={m.name}>
                      {m.label || m.name}
                    </option>
                  ))}
                </Select>
              )}
            </Field>
            <Field
              label="Filter (optional)"
              error={errors.filter}
              hint='Only records matching it are delivered; the list filter language, e.g. {"total": {"gt": 100}}.'
            >
              {(id, d) => (
                <textarea
                  id={id}
                  rows={3}
                  value={filter}
                  onChange={(e) => setFilter(e.target.value)}
                  aria-describedby={d}
                  aria-invalid={Boolean(errors.filter)}
                  spellCheck={false}
                  className="rounded-md border border-zinc-300 bg-white px-3 py-2 font-mono text-sm aria-[invalid=true]:border-red-600 dark:border-zinc-700 dark:bg-zinc-900"
                />
              )}
            </Field>
          </>
        )}
        <Field label="Description (optional)" error={errors.description}>
          {(id) => <Input id={id} value={description} onChange={(e) => setDescription(e.target.value)} placeholder="Zapier: new orders" />}
        </Field>
        <Alert>{failure}</Alert>
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" disabled={busy || !url.trim() || !events.length}>
            {busy ? 'Creating…' : 'Create webhook'}
          </Button>
        </div>
      </form>
    </Modal>
  );
}
