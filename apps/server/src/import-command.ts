import { readFileSync } from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { parse } from 'csv-parse/sync';

/**
 * `infinity import FILE --model NAME`: sends a CSV or JSON file to a running server's import
 * endpoint in batches, with a progress bar. Each batch is one transaction on the server; with
 * all-or-nothing (the default) the first refused batch stops the import and says how far it got.
 */
export interface ImportCommand {
  file: string;
  model: string;
  url: string;
  apiKey: string;
  mode: 'insert' | 'upsert';
  key: string;
  skipInvalid: boolean;
  batch: number;
}

interface Report {
  total: number;
  inserted: number;
  updated: number;
  rejected: { row: number; errors: { field: string; message: string }[] }[];
}

function readRows(file: string): Record<string, unknown>[] {
  const text = readFileSync(file, 'utf8');
  if (path.extname(file).toLowerCase() === '.json') {
    const data = JSON.parse(text) as unknown;
    if (!Array.isArray(data)) throw new Error(`${file}: a JSON import is an array of objects`);
    return data as Record<string, unknown>[];
  }
  return parse<Record<string, string>>(text, { columns: true, bom: true, skip_empty_lines: true });
}

export async function runImport(cmd: ImportCommand, out: NodeJS.WriteStream = process.stderr): Promise<Report> {
  const csv = path.extname(cmd.file).toLowerCase() !== '.json';
  const rows = readRows(cmd.file);
  const header = csv && rows[0] ? Object.keys(rows[0]) : [];
  const total: Report = { total: rows.length, inserted: 0, updated: 0, rejected: [] };
  const bar = new cliProgress.SingleBar(
    {
      stream: out,
      format: ` importing ${cmd.model} [{bar}] {percentage}% | {value}/{total} rows | {eta_formatted} left`,
      noTTYOutput: true,
      notTTYSchedule: 2000,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(rows.length, 0);
  try {
    for (let i = 0; i < rows.length; i += cmd.batch) {
      const part = rows.slice(i, i + cmd.batch);
      // CSV goes as CSV (the server coerces cells by field type); JSON as JSON.
      const body = csv
        ? [header.join(','), ...part.map((r) => header.map((h) => csvCell(typeof r[h] === 'string' ? r[h] : JSON.stringify(r[h] ?? ''))).join(','))].join('\n')
        : JSON.stringify(part);
      const qs = new URLSearchParams({ mode: cmd.mode, key: cmd.key, onError: cmd.skipInvalid ? 'skip-invalid' : 'all-or-nothing' });
      const res = await fetch(`${cmd.url}/api/v1/data/${encodeURIComponent(cmd.model)}/import?${qs.toString()}`, {
        method: 'POST',
        headers: { 'x-api-key': cmd.apiKey, 'content-type': csv ? 'text/csv' : 'application/json' },
        body,
      });
      const json = (await res.json()) as { data?: Report; error?: { code: string; message: string; details?: Report } };
      const report = json.data ?? json.error?.details;
      // Row numbers are the file's: shift each batch's numbers by where the batch starts.
      const shift = (r: Report['rejected'][number]) => ({ ...r, row: r.row + i });
      if (!res.ok) {
        if (report?.rejected) total.rejected.push(...report.rejected.map(shift));
        throw new Error(
          `batch starting at row ${i + (csv ? 2 : 0)} refused: ${json.error?.message ?? res.status}. ${total.inserted + total.updated} rows were imported before it.`,
        );
      }
      total.inserted += report!.inserted;
      total.updated += report!.updated;
      total.rejected.push(...report!.rejected.map(shift));
      bar.update(Math.min(rows.length, i + part.length));
    }
  } finally {
    bar.stop();
  }
  return total;
}

function csvCell(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}
