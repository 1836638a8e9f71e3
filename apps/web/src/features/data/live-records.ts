/**
 * The records grid follows its model over the realtime `records` channel (with the grid's filter,
 * evaluated by the server): created, updated and deleted records are applied to the rows already
 * loaded, so two people on the same grid see each other's changes without a reload.
 *
 * Where a new record goes: at its place in the current sort when that place is among the loaded
 * rows; otherwise (further down than what is loaded, or a full-text search the client cannot
 * evaluate) it is counted, and the grid offers "N new records" to reload. An updated record keeps
 * its row (rows do not jump while someone reads them).
 */
import { type InfiniteData, type QueryClient, type QueryKey, useQueryClient } from '@tanstack/react-query';
import { useCallback, useRef, useState } from 'react';
import type { List } from '../../lib/api';
import { type RealtimeEvent, useRealtime } from '../../lib/realtime';
import type { FieldDef, RecordRow } from './types';

export type RecordPages = InfiniteData<List<RecordRow>, string | null>;

export interface GridView {
  /** The grid's sort: `field` or `-field`. */
  sort: string;
  /** A full-text search is on (the client cannot tell whether a new record matches it). */
  searching: boolean;
}

type Change = { type: 'created' | 'updated'; row: RecordRow } | { type: 'deleted'; id: string };

const ISO = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;

/**
 * A string as it sorts. NB: timestamps come to the microsecond with as many fraction digits as
 * they need ("…:01.1Z", "…:01.15Z"): as text those order wrongly within one second, so they are
 * compared as UTC second plus a fraction padded to nine digits.
 */
function sortable(v: string): string {
  const m = ISO.exec(v);
  if (!m) return v;
  const second = Date.parse(`${m[1]}${m[3]}`);
  return Number.isNaN(second) ? v : `${new Date(second).toISOString().slice(0, 19)}.${(m[2] ?? '').padEnd(9, '0')}`;
}

/** Orders two cell values as the grid's sort does; null when they cannot be compared here. */
function compare(a: unknown, b: unknown): number | null {
  if (a === null || a === undefined || b === null || b === undefined) return null;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (typeof a === 'string' && typeof b === 'string') {
    const [x, y] = [sortable(a), sortable(b)];
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return null;
}

/** Where a new row goes among the loaded ones in this sort; null when not among them. */
function placeOf(rows: RecordRow[], row: RecordRow, view: GridView, complete: boolean): number | null {
  if (view.searching) return null;
  const desc = view.sort.startsWith('-');
  const field = desc ? view.sort.slice(1) : view.sort;
  for (let i = 0; i < rows.length; i++) {
    const c = compare(row[field], rows[i]![field]);
    if (c === null) return null;
    if (desc ? c > 0 : c < 0) return i;
  }
  // After every loaded row: its place only when nothing more is left to load.
  return complete ? rows.length : null;
}

/** The loaded pages with one change applied, and whether a new record was left out (not placeable). */
export function applyRecordChange(data: RecordPages, change: Change, view: GridView): { data: RecordPages; leftOut: boolean } {
  const id = change.type === 'deleted' ? change.id : change.row.id;
  const pages = data.pages;
  const where = pages.flatMap((p, pi) => p.data.map((r, ri) => [pi, ri, r] as const)).find(([, , r]) => r.id === id);
  const withPages = (next: List<RecordRow>[]) => ({ data: { ...data, pages: next }, leftOut: false });
  if (change.type === 'deleted')
    return where ? withPages(pages.map((p, pi) => (pi === where[0] ? { ...p, data: p.data.filter((r) => r.id !== id) } : p))) : { data, leftOut: false };
  if (where) {
    const [pi, ri, old] = where;
    return withPages(pages.map((p, i) => (i === pi ? { ...p, data: p.data.map((r, j) => (j === ri ? keepExpanded(old, change.row) : r)) } : p)));
  }
  // Not loaded: an update of a record further down than what is loaded changes nothing shown.
  if (change.type === 'updated') return { data, leftOut: false };
  const rows = pages.flatMap((p) => p.data);
  const complete = !pages.at(-1)?.meta.nextCursor;
  const at = placeOf(rows, change.row, view, complete);
  if (at === null) return { data, leftOut: true };
  // Into the page that holds that position (the last one when it goes after everything).
  let page = pages.length - 1;
  let local = at;
  for (let i = 0, offset = 0; i < pages.length; offset += pages[i]!.data.length, i++)
    if (at < offset + pages[i]!.data.length || i === pages.length - 1) {
      page = i;
      local = at - offset;
      break;
    }
  return withPages(pages.map((p, i) => (i === page ? { ...p, data: [...p.data.slice(0, local), change.row, ...p.data.slice(local)] } : p)));
}

/** An updated record keeps the expanded related records it had when the relation did not change. */
function keepExpanded(old: RecordRow, next: RecordRow): RecordRow {
  const out: RecordRow = { ...next };
  for (const [k, v] of Object.entries(old))
    if (v && typeof v === 'object' && !Array.isArray(v) && typeof next[k] === 'string' && (v as { id?: unknown }).id === next[k]) out[k] = v;
  return out;
}

/** A related record's id as the grid shows relations: the record from the picker's cache when there, else just its id. */
function expand(client: QueryClient, fields: FieldDef[], row: RecordRow): RecordRow {
  const out: RecordRow = { ...row };
  for (const f of fields) {
    const v = row[f.name];
    if (f.type !== 'relation' || typeof v !== 'string') continue;
    const known = client.getQueryData<RecordRow[]>(['records', f.target, 'options'])?.find((r) => r.id === v);
    out[f.name] = known ?? { id: v };
  }
  return out;
}

/**
 * Follows the grid's records: applies each change to the loaded pages under `queryKey`, and
 * counts the new records it could not place. `applyLocal` applies this tab's own write at once
 * (its event, arriving next, then changes nothing more).
 */
export function useLiveRecords(o: { model: string; filter: unknown; fields: FieldDef[]; queryKey: QueryKey; view: GridView }) {
  const client = useQueryClient();
  // Counted per grid (sort, search, filter): a new one starts from the server's answer.
  const gridKey = JSON.stringify(o.queryKey);
  const [left, setLeft] = useState({ gridKey, n: 0 });
  // The grid as it is now (rebuilt on every render; read when an event arrives).
  const grid = useRef(o);
  grid.current = o;
  const apply = useCallback(
    (change: Change) => {
      const { queryKey, view, fields } = grid.current;
      let missed = false;
      client.setQueryData<RecordPages>(queryKey, (d) => {
        if (!d) return d;
        const r = applyRecordChange(d, change.type === 'deleted' ? change : { ...change, row: expand(client, fields, change.row) }, view);
        missed = r.leftOut;
        return r.data;
      });
      const k = JSON.stringify(queryKey);
      if (missed) setLeft((x) => ({ gridKey: k, n: x.gridKey === k ? x.n + 1 : 1 }));
    },
    [client],
  );
  const onEvent = (e: RealtimeEvent) => {
    const d = e.data as { recordId?: string; after?: RecordRow };
    if (e.event === 'record.deleted' && d.recordId) apply({ type: 'deleted', id: d.recordId });
    else if ((e.event === 'record.created' || e.event === 'record.updated') && d.after)
      apply({ type: e.event === 'record.created' ? 'created' : 'updated', row: d.after });
  };
  const live = useRealtime({ channel: 'records', model: o.model, ...(o.filter ? { filter: o.filter } : {}) }, onEvent, { resync: [['records', o.model]] });
  return {
    live,
    leftOut: left.gridKey === gridKey ? left.n : 0,
    /** Shows the records that were left out: the grid is loaded again. */
    showLeftOut: () => {
      setLeft({ gridKey, n: 0 });
      return client.invalidateQueries({ queryKey: ['records', o.model] });
    },
    applyLocal: apply,
  };
}
