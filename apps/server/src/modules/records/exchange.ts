import { Readable } from 'node:stream';
import { parse as parseCsv } from 'csv-parse/sync';
import { stringify as toCsv } from 'csv-stringify/sync';
import { csvSafeText, csvUnescapeText } from '../../platform/http/index.js';
import type { OrgActor } from '../access/index.js';
import type { FieldDef, ModelDef } from '../schema/index.js';
import { type ListQuery, decodeCursor } from './list-query.js';
import { recordErrors } from './records.errors.js';
import { bulk } from './records.bulk.js';
import { listRecords } from './records.service.js';
import { type RecordsContext, requireModel } from './records.store.js';
import { checkValues } from './validate.js';

/**
 * Export streams a model's records (honouring the list filter) page by page with the keyset
 * cursor, so memory stays constant whatever the table size. Import parses CSV or JSON, validates
 * every row, and writes the accepted ones in one transaction, with a report of what was refused.
 */
export type ExportFormat = 'csv' | 'json' | 'xml';
const PAGE = 1000;
const SYSTEM_COLUMNS = ['id', 'createdAt', 'updatedAt', 'createdBy', 'updatedBy'];

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** A CSV cell: text that a spreadsheet would run as a formula is quoted (csvSafeText); numbers stay numbers. */
const csvCell = (v: unknown): string => (typeof v === 'string' ? csvSafeText(v) : cell(v));

const XML_ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
// Characters XML 1.0 cannot carry at all are dropped rather than producing an unreadable file.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const xml = (s: string) => s.replace(/[&<>"']/g, (c) => XML_ESC[c]!).replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '');

export async function exportRecords(
  ctx: RecordsContext,
  actor: OrgActor,
  name: string,
  q: ListQuery,
  format: ExportFormat,
): Promise<{ stream: Readable; filename: string; contentType: string }> {
  const { model } = await requireModel(ctx, actor, name);
  const columns = [...SYSTEM_COLUMNS, ...model.fields.map((f) => f.name)].filter((c) => !q.fields || c === 'id' || q.fields.includes(c));
  async function* pages() {
    let cursor = q.cursor;
    let first = true;
    for (;;) {
      const page = await listRecords(ctx, actor, name, { ...q, expand: [], count: false, limit: PAGE, offset: 0, cursor });
      yield { rows: page.data, first, last: !page.nextCursor };
      first = false;
      if (!page.nextCursor) return;
      cursor = decodeCursor(q.sort, page.nextCursor);
    }
  }
  async function* body(): AsyncGenerator<string> {
    let n = 0;
    for await (const { rows, first, last } of pages()) {
      switch (format) {
        case 'csv':
          yield toCsv(
            rows.map((r) => columns.map((c) => csvCell(r[c]))),
            { header: first, columns, bom: first },
          );
          break;
        case 'json':
          for (const r of rows) yield `${n++ === 0 ? '[\n' : ',\n'}${JSON.stringify(r)}`;
          if (last) yield n === 0 ? '[]\n' : '\n]\n';
          break;
        case 'xml':
          if (first) yield `<?xml version="1.0" encoding="UTF-8"?>\n<records model="${xml(model.name)}">\n`;
          for (const r of rows)
            yield `  <record>${columns.map((c) => (r[c] === null || r[c] === undefined ? `<${c}/>` : `<${c}>${xml(cell(r[c]))}</${c}>`)).join('')}</record>\n`;
          if (last) yield '</records>\n';
          break;
        default: {
          const never: never = format;
          return never;
        }
      }
    }
  }
  const contentType = { csv: 'text/csv; charset=utf-8', json: 'application/json; charset=utf-8', xml: 'application/xml; charset=utf-8' }[format];
  return { stream: Readable.from(body()), filename: `${model.name}.${format}`, contentType };
}

/** A CSV cell (text) as the field's type; what cannot be read is left as text for validation to name. */
function fromCell(f: FieldDef, v: string): unknown {
  if (v === '') return undefined;
  switch (f.type) {
    case 'integer':
    case 'number':
      return /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(v.trim()) ? Number(v) : v;
    case 'boolean': {
      const b = v.trim().toLowerCase();
      return ['true', '1', 'yes'].includes(b) ? true : ['false', '0', 'no'].includes(b) ? false : v;
    }
    case 'json':
    case 'array':
      try {
        return JSON.parse(v) as unknown;
      } catch {
        return v;
      }
    default:
      return v;
  }
}

export interface ImportOptions {
  format: 'csv' | 'json';
  mode: 'insert' | 'upsert';
  onError: 'all-or-nothing' | 'skip-invalid';
  key: string;
}

export interface ImportReport {
  total: number;
  inserted: number;
  updated: number;
  rejected: { row: number; errors: { field: string; code: string; message: string }[] }[];
}

function rowsOf(model: ModelDef, body: unknown, format: 'csv' | 'json'): { row: number; item: unknown }[] {
  if (format === 'json') {
    if (!Array.isArray(body)) throw recordErrors.QUERY_INVALID('A JSON import is an array of objects.');
    return body.map((item: unknown, i) => ({ row: i, item }));
  }
  if (typeof body !== 'string') throw recordErrors.QUERY_INVALID('A CSV import is sent as text/csv.');
  let records: Record<string, string>[];
  try {
    records = parseCsv<Record<string, string>>(body, { columns: true, bom: true, skip_empty_lines: true, relax_column_count: false });
  } catch (err) {
    throw recordErrors.QUERY_INVALID(`The CSV cannot be read: ${(err as Error).message.slice(0, 200)}`);
  }
  const byName = new Map(model.fields.map((f) => [f.name, f]));
  return records.map((r, i) => {
    const item: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r)) {
      const f = byName.get(k);
      if (f) {
        const x = fromCell(f, csvUnescapeText(v));
        if (x !== undefined) item[k] = x;
      } else if (k === 'id' && v) item.id = v;
      else if (!SYSTEM_COLUMNS.includes(k)) item[k] = v;
    }
    // Row numbers as a spreadsheet shows them: the header is row 1.
    return { row: i + 2, item };
  });
}

export async function importRecords(ctx: RecordsContext, actor: OrgActor, name: string, body: unknown, opts: ImportOptions): Promise<ImportReport> {
  const { model } = await requireModel(ctx, actor, name);
  const rows = rowsOf(model, body, opts.format);
  const rejected: ImportReport['rejected'] = [];
  const accepted: Record<string, unknown>[] = [];
  for (const { row, item } of rows) {
    const isObject = typeof item === 'object' && item !== null && !Array.isArray(item);
    // The id column is the record's own (upsert by id), not a field; a row that is no object is checked as it is.
    const { id, ...values } = isObject ? (item as Record<string, unknown>) : {};
    const r = checkValues(model, isObject ? values : item, 'full');
    if ('issues' in r) rejected.push({ row, errors: r.issues });
    else if (opts.mode === 'upsert' && opts.key === 'id' && typeof id === 'string') accepted.push({ ...r.values, id });
    else accepted.push(r.values);
  }
  const report: ImportReport = { total: rows.length, inserted: 0, updated: 0, rejected };
  if (rejected.length && opts.onError === 'all-or-nothing') {
    throw recordErrors.IMPORT_REJECTED(
      `${rejected.length} of ${rows.length} rows are invalid; nothing was imported. Fix them, or import with onError=skip-invalid.`,
      report,
    );
  }
  if (!accepted.length) return report;
  const r = await bulk(ctx, actor, name, opts.mode === 'insert' ? 'create' : 'upsert', accepted, opts.key);
  report.inserted = r.created;
  report.updated = r.updated;
  return report;
}
