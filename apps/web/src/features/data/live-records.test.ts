import { describe, expect, it } from 'vitest';
import { type GridView, type RecordPages, applyRecordChange } from './live-records';
import type { RecordRow } from './types';

const rec = (id: string, createdAt: string, extra: Record<string, unknown> = {}): RecordRow => ({ id, createdAt, updatedAt: createdAt, ...extra });
const pages = (rows: RecordRow[][], more = false): RecordPages => ({
  pages: rows.map((data, i) => ({ data, meta: { total: null, limit: 50, offset: 0, nextCursor: more || i < rows.length - 1 ? `c${i}` : null } })),
  pageParams: rows.map((_, i) => (i ? `c${i - 1}` : null)),
});
const ids = (d: RecordPages) => d.pages.map((p) => p.data.map((r) => r.id));
const newest: GridView = { sort: '-createdAt', searching: false };

describe('records grid from the records channel', () => {
  it('puts a new record at its place in the sort, and replaces one that is already there', () => {
    const d = pages([[rec('b', '2026-01-02'), rec('a', '2026-01-01')]]);
    const r = applyRecordChange(d, { type: 'created', row: rec('c', '2026-01-03') }, newest);
    expect([ids(r.data), r.leftOut]).toEqual([[['c', 'b', 'a']], false]);
    // This tab's own write, then its event: one row.
    const again = applyRecordChange(r.data, { type: 'created', row: rec('c', '2026-01-03', { name: 'x' }) }, newest);
    expect(ids(again.data)).toEqual([['c', 'b', 'a']]);
    expect(again.data.pages[0]!.data[0]!.name).toBe('x');
  });

  it('orders timestamps by time, whatever the number of fraction digits', () => {
    const d = pages([[rec('b', '2026-12-07T10:00:01.1Z'), rec('a', '2026-12-07T10:00:00.999999Z')]]);
    // As text "…01.15Z" sorts before "…01.1Z"; as a time it is later.
    expect(ids(applyRecordChange(d, { type: 'created', row: rec('c', '2026-12-07T10:00:01.15Z') }, newest).data)).toEqual([['c', 'b', 'a']]);
    expect(ids(applyRecordChange(d, { type: 'created', row: rec('z', '2026-12-07T11:00:01+01:00') }, newest).data)).toEqual([['b', 'z', 'a']]);
  });

  it('sorts by a field: in between loaded rows, or left out when it belongs below what is loaded', () => {
    const view: GridView = { sort: 'name', searching: false };
    const d = pages([[rec('1', 't', { name: 'ada' }), rec('2', 't', { name: 'grace' })]], true);
    expect(ids(applyRecordChange(d, { type: 'created', row: rec('3', 't', { name: 'barbara' }) }, view).data)).toEqual([['1', '3', '2']]);
    const below = applyRecordChange(d, { type: 'created', row: rec('4', 't', { name: 'linus' }) }, view);
    expect([ids(below.data), below.leftOut]).toEqual([[['1', '2']], true]);
    // Everything loaded: it goes last.
    expect(ids(applyRecordChange(pages([d.pages[0]!.data]), { type: 'created', row: rec('4', 't', { name: 'linus' }) }, view).data)).toEqual([['1', '2', '4']]);
    // A value it cannot compare (empty) or a full-text search: left out, counted.
    expect(applyRecordChange(d, { type: 'created', row: rec('5', 't') }, view).leftOut).toBe(true);
    expect(applyRecordChange(d, { type: 'created', row: rec('6', 'z') }, { ...newest, searching: true }).leftOut).toBe(true);
  });

  it('updates a row in place (keeping its expanded relation) and removes a deleted one from whichever page holds it', () => {
    const d = pages([[rec('a', '2', { company: { id: 'c1', name: 'Acme' }, n: 1 })], [rec('b', '1')]]);
    const up = applyRecordChange(d, { type: 'updated', row: rec('a', '2', { company: 'c1', n: 2 }) }, newest).data;
    expect(up.pages[0]!.data[0]).toMatchObject({ n: 2, company: { id: 'c1', name: 'Acme' } });
    expect(ids(applyRecordChange(up, { type: 'deleted', id: 'b' }, newest).data)).toEqual([['a'], []]);
    // An update of a record not loaded (further down): nothing shown changes.
    expect(applyRecordChange(d, { type: 'updated', row: rec('z', '9') }, newest).data).toBe(d);
  });
});
