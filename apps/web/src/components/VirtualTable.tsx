import { type ColumnDef, type VisibilityState, flexRender, getCoreRowModel, useReactTable } from '@tanstack/react-table';
import { useVirtualizer } from '@tanstack/react-virtual';
import { type ReactNode, useEffect, useMemo, useRef, useState } from 'react';
import type { Column } from './ui';

/**
 * A data grid on TanStack Table (column model, column visibility) that renders only the rows in
 * view (TanStack Virtual), so tens of thousands of loaded records scroll smoothly; reaching the end
 * asks for the next page. Sorting and filtering happen on the server; the header stays on top.
 */
export function VirtualTable<T>({
  rows,
  columns,
  rowKey,
  actions,
  label,
  onEndReached,
  rowHeight = 41,
}: {
  rows: T[];
  columns: Column<T>[];
  rowKey: (row: T) => string;
  actions?: ((row: T) => ReactNode) | undefined;
  label: string;
  onEndReached?: () => void;
  rowHeight?: number;
}) {
  const [visibility, setVisibility] = useState<VisibilityState>({});
  const defs = useMemo<ColumnDef<T>[]>(
    () => [
      ...columns.map((c): ColumnDef<T> => ({
        id: c.key,
        header: () => c.header,
        cell: (ctx) => c.cell(ctx.row.original),
        enableHiding: !c.key.startsWith('_'),
      })),
      ...(actions
        ? [
            {
              id: '_actions',
              header: () => <span className="sr-only">Actions</span>,
              cell: (ctx) => actions(ctx.row.original),
              enableHiding: false,
            } satisfies ColumnDef<T>,
          ]
        : []),
    ],
    [columns, actions],
  );
  const table = useReactTable({
    data: rows,
    columns: defs,
    getCoreRowModel: getCoreRowModel(),
    getRowId: rowKey,
    state: { columnVisibility: visibility },
    onColumnVisibilityChange: setVisibility,
  });
  const model = table.getRowModel().rows;
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({
    count: model.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => rowHeight,
    overscan: 12,
    getItemKey: (i) => model[i]!.id,
  });
  const items = virtual.getVirtualItems();
  const last = items.at(-1)?.index ?? -1;
  useEffect(() => {
    if (onEndReached && rows.length > 0 && last >= rows.length - 5) onEndReached();
  }, [last, rows.length, onEndReached]);
  const top = items[0]?.start ?? 0;
  const bottom = virtual.getTotalSize() - (items.at(-1)?.end ?? 0);
  const span = table.getVisibleLeafColumns().length;
  const hideable = table.getAllLeafColumns().filter((c) => c.getCanHide());
  return (
    <div className="flex flex-col gap-2">
      {hideable.length > 1 && (
        <details className="self-end text-sm">
          <summary className="cursor-pointer">Columns</summary>
          <div className="mt-1 flex flex-wrap gap-3">
            {hideable.map((c) => (
              <label key={c.id} className="flex items-center gap-1">
                <input type="checkbox" aria-label={`Show column ${c.id}`} checked={c.getIsVisible()} onChange={c.getToggleVisibilityHandler()} />
                {c.id}
              </label>
            ))}
          </div>
        </details>
      )}
      <div
        ref={scroller}
        className="max-h-[70vh] overflow-auto rounded-lg border border-zinc-200 focus:outline-2 focus:outline-indigo-500 dark:border-zinc-800"
        tabIndex={0}
        role="region"
        aria-label={label}
        data-testid="virtual-table"
      >
        <table className="w-full text-left text-sm" aria-rowcount={rows.length + 1}>
          <thead className="sticky top-0 z-10 bg-zinc-50 dark:bg-zinc-900">
            {table.getHeaderGroups().map((g) => (
              <tr key={g.id}>
                {g.headers.map((h) => {
                  // The server sorts; a column only says how it is sorted now (aria-sort).
                  const sort = columns.find((c) => c.key === h.column.id)?.sort;
                  return (
                    <th key={h.id} scope="col" className="px-3 py-2 font-medium" {...(sort ? { 'aria-sort': sort } : {})}>
                      {flexRender(h.column.columnDef.header, h.getContext())}
                    </th>
                  );
                })}
              </tr>
            ))}
          </thead>
          <tbody>
            {top > 0 && (
              <tr aria-hidden="true">
                <td colSpan={span} style={{ height: top, padding: 0 }} />
              </tr>
            )}
            {items.map((item) => {
              const row = model[item.index]!;
              return (
                <tr
                  key={item.key}
                  data-index={item.index}
                  ref={virtual.measureElement}
                  aria-rowindex={item.index + 2}
                  className="border-t border-zinc-200 dark:border-zinc-800"
                >
                  {row.getVisibleCells().map((cell) => (
                    <td key={cell.id} className={cell.column.id === '_actions' ? 'px-3 py-2 text-right' : 'max-w-xs truncate px-3 py-2'}>
                      {flexRender(cell.column.columnDef.cell, cell.getContext())}
                    </td>
                  ))}
                </tr>
              );
            })}
            {bottom > 0 && (
              <tr aria-hidden="true">
                <td colSpan={span} style={{ height: bottom, padding: 0 }} />
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </div>
  );
}
