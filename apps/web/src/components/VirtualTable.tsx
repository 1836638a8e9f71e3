import { useVirtualizer } from '@tanstack/react-virtual';
import { type ReactNode, useEffect, useRef } from 'react';
import type { Column } from './ui';

/**
 * A table that renders only the rows in view (TanStack Virtual), so a grid of tens of thousands of
 * loaded records scrolls smoothly; reaching the end asks for the next page. Header stays on top.
 */
export function VirtualTable<T>({ rows, columns, rowKey, actions, label, onEndReached, rowHeight = 41 }: { rows: T[]; columns: Column<T>[]; rowKey: (row: T) => string; actions?: ((row: T) => ReactNode) | undefined; label: string; onEndReached?: () => void; rowHeight?: number }) {
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({ count: rows.length, getScrollElement: () => scroller.current, estimateSize: () => rowHeight, overscan: 12, getItemKey: (i) => rowKey(rows[i]!) });
  const items = virtual.getVirtualItems();
  const last = items.at(-1)?.index ?? -1;
  useEffect(() => {
    if (onEndReached && rows.length > 0 && last >= rows.length - 5) onEndReached();
  }, [last, rows.length, onEndReached]);
  const top = items[0]?.start ?? 0;
  const bottom = virtual.getTotalSize() - (items.at(-1)?.end ?? 0);
  const span = columns.length + (actions ? 1 : 0);
  return (
    <div ref={scroller} className="max-h-[70vh] overflow-auto rounded-lg border border-zinc-200 focus:outline-2 focus:outline-indigo-500 dark:border-zinc-800" tabIndex={0} role="region" aria-label={label} data-testid="virtual-table">
      <table className="w-full text-left text-sm" aria-rowcount={rows.length + 1}>
        <thead className="sticky top-0 z-10 bg-zinc-50 dark:bg-zinc-900">
          <tr>
            {columns.map((c) => (
              <th key={c.key} scope="col" className="px-3 py-2 font-medium" {...(c.sort ? { 'aria-sort': c.sort } : {})}>
                {c.header}
              </th>
            ))}
            {actions && (
              <th scope="col" className="px-3 py-2">
                <span className="sr-only">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {top > 0 && (
            <tr aria-hidden="true">
              <td colSpan={span} style={{ height: top, padding: 0 }} />
            </tr>
          )}
          {items.map((item) => {
            const r = rows[item.index]!;
            return (
              <tr key={item.key} data-index={item.index} ref={virtual.measureElement} aria-rowindex={item.index + 2} className="border-t border-zinc-200 dark:border-zinc-800">
                {columns.map((c) => (
                  <td key={c.key} className="max-w-xs truncate px-3 py-2">
                    {c.cell(r)}
                  </td>
                ))}
                {actions && <td className="px-3 py-2 text-right">{actions(r)}</td>}
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
  );
}
