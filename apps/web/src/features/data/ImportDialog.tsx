import { useState } from 'react';
import { Alert, Button, Field, Select } from '../../components/ui';
import { currentToken } from '../../lib/api';

interface Report {
  total: number;
  inserted: number;
  updated: number;
  rejected: { row: number; errors: { field: string; message: string }[] }[];
}

/**
 * Import a CSV or JSON file: the upload shows its progress, then the server's report — rows
 * inserted and updated, and each rejected row with what was wrong with it.
 */
export function ImportDialog({ model, onDone }: { model: string; onDone: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [mode, setMode] = useState<'insert' | 'upsert'>('insert');
  const [onError, setOnError] = useState<'skip-invalid' | 'all-or-nothing'>('skip-invalid');
  const [progress, setProgress] = useState<number | null>(null);
  const [report, setReport] = useState<Report | null>(null);
  const [message, setMessage] = useState('');

  const upload = () => {
    if (!file) return setMessage('Choose a CSV or JSON file first.');
    setReport(null);
    setMessage('');
    setProgress(0);
    const form = new FormData();
    form.append('file', file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/v1/data/${model}/import?mode=${mode}&onError=${onError}`);
    xhr.setRequestHeader('authorization', `Bearer ${currentToken() ?? ''}`);
    xhr.upload.onprogress = (e) => e.lengthComputable && setProgress(Math.round((e.loaded / e.total) * 100));
    xhr.upload.onload = () => setProgress(100);
    xhr.onload = () => {
      setProgress(null);
      const body = (() => {
        try {
          return JSON.parse(xhr.responseText) as { data?: Report; error?: { message: string; details?: unknown } };
        } catch {
          return {};
        }
      })();
      if (xhr.status === 200 && body.data) {
        setReport(body.data);
        onDone();
      } else {
        setMessage(body.error?.message ?? `The import failed (${xhr.status}).`);
        const d = body.error?.details as Report | undefined;
        if (d && Array.isArray(d.rejected)) setReport(d);
      }
    };
    xhr.onerror = () => {
      setProgress(null);
      setMessage('The upload failed (network).');
    };
    xhr.send(form);
  };

  return (
    <section aria-label="Import" className="flex flex-col gap-3 rounded-lg border border-zinc-200 p-4 dark:border-zinc-800">
      <h2 className="font-semibold">Import records</h2>
      <div className="flex flex-wrap items-end gap-3">
        <Field label="File (CSV with a header row, or a JSON array)">
          {(id) => (
            <input
              id={id}
              type="file"
              accept=".csv,.json,text/csv,application/json"
              onChange={(e) => setFile(e.target.files?.[0] ?? null)}
              className="text-sm"
            />
          )}
        </Field>
        <Field label="Mode">
          {(id) => (
            <Select id={id} value={mode} onChange={(e) => setMode(e.target.value as 'insert' | 'upsert')}>
              <option value="insert">insert new records</option>
              <option value="upsert">update by id, insert the rest</option>
            </Select>
          )}
        </Field>
        <Field label="Invalid rows">
          {(id) => (
            <Select id={id} value={onError} onChange={(e) => setOnError(e.target.value as 'skip-invalid' | 'all-or-nothing')}>
              <option value="skip-invalid">skip them, import the rest</option>
              <option value="all-or-nothing">import nothing</option>
            </Select>
          )}
        </Field>
        <Button onClick={upload} disabled={progress !== null}>
          Upload
        </Button>
      </div>
      {progress !== null && (
        <div className="flex items-center gap-3 text-sm">
          <progress max={100} value={progress} aria-label="Upload progress" className="h-2 w-64" />
          <span>{progress < 100 ? `${progress}% uploaded` : 'Uploaded; importing…'}</span>
        </div>
      )}
      <Alert>{message}</Alert>
      {report && (
        <div role="status" className="flex flex-col gap-2 text-sm">
          <p data-testid="import-report">
            {report.total} row(s): {report.inserted} inserted, {report.updated} updated, {report.rejected.length} rejected.
          </p>
          {report.rejected.length > 0 && (
            <table className="text-left text-xs">
              <thead>
                <tr>
                  <th scope="col" className="pr-3">
                    Row
                  </th>
                  <th scope="col">Problems</th>
                </tr>
              </thead>
              <tbody>
                {report.rejected.slice(0, 100).map((r) => (
                  <tr key={r.row}>
                    <td className="pr-3 align-top">{r.row}</td>
                    <td>{r.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      )}
    </section>
  );
}
