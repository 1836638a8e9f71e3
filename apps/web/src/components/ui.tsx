import { type ButtonHTMLAttributes, Fragment, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes, useEffect, useId, useRef } from 'react';

/** Small accessible primitives kept in the repo (shadcn-style): buttons, fields, page frame. */
export function Button({
  variant = 'primary',
  className = '',
  ...props
}: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: 'primary' | 'secondary' | 'danger' | 'ghost' }) {
  const styles = {
    primary: 'bg-indigo-600 text-white hover:bg-indigo-500 disabled:bg-indigo-300',
    secondary: 'border border-zinc-300 bg-white text-zinc-900 hover:bg-zinc-50 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100 dark:hover:bg-zinc-800',
    danger: 'bg-red-600 text-white hover:bg-red-500 disabled:bg-red-300 dark:disabled:bg-red-900',
    ghost: 'text-zinc-700 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800',
  }[variant];
  return (
    <button
      type="button"
      className={`inline-flex items-center justify-center gap-2 rounded-md px-3 py-2 text-sm font-medium disabled:cursor-not-allowed ${styles} ${className}`}
      {...props}
    />
  );
}

export function Field({
  label,
  error,
  hint,
  children,
}: {
  label: string;
  error?: string | undefined;
  hint?: string;
  children: (id: string, describedBy: string | undefined) => ReactNode;
}) {
  const id = useId();
  const errId = `${id}-err`;
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={id} className="text-sm font-medium">
        {label}
      </label>
      {children(id, error ? errId : undefined)}
      {hint && !error && <p className="text-xs text-zinc-600 dark:text-zinc-400">{hint}</p>}
      {error && (
        <p id={errId} className="text-xs text-red-700 dark:text-red-400">
          {error}
        </p>
      )}
    </div>
  );
}

const inputClass = 'rounded-md border border-zinc-300 bg-white px-3 py-2 text-sm dark:border-zinc-700 dark:bg-zinc-900 aria-[invalid=true]:border-red-600';

export function Input(props: InputHTMLAttributes<HTMLInputElement>) {
  return <input className={inputClass} {...props} />;
}

export function Select(props: SelectHTMLAttributes<HTMLSelectElement>) {
  return <select className={inputClass} {...props} />;
}

export function Page({ title, actions, children }: { title: string; actions?: ReactNode; children: ReactNode }) {
  return (
    <div className="flex flex-col gap-6 p-6">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h1 className="text-2xl font-semibold">{title}</h1>
        <div className="flex gap-2">{actions}</div>
      </div>
      {children}
    </div>
  );
}

/** A form's or a page's error message, announced to screen readers; nothing when there is none. */
export function Alert({ children }: { children: ReactNode }) {
  return children ? (
    <p role="alert" className="text-sm text-red-700 dark:text-red-400">
      {children}
    </p>
  ) : null;
}

export function Empty({ children }: { children: ReactNode }) {
  return (
    <div className="rounded-lg border border-dashed border-zinc-300 p-8 text-center text-sm text-zinc-600 dark:border-zinc-700 dark:text-zinc-400">
      {children}
    </div>
  );
}

export interface Column<T> {
  /** Text or a control (a sort button); also the accessible name of the column. */
  header: ReactNode;
  key: string;
  cell: (row: T) => ReactNode;
  /** aria-sort of a sortable column. */
  sort?: 'ascending' | 'descending' | 'none';
}

/** A data table with header cells, an optional actions column (labelled for screen readers). */
export function Table<T>({
  rows,
  columns,
  rowKey,
  actions,
  detail,
  label = 'Table',
}: {
  rows: T[];
  columns: Column<T>[];
  rowKey: (row: T) => string;
  actions?: ((row: T) => ReactNode) | undefined;
  /** What a row unfolds to (a row of its own across the table), when it shows anything. */
  detail?: (row: T) => ReactNode;
  label?: string;
}) {
  return (
    // Focusable, so a table wider than the screen can be scrolled with the keyboard.
    <div
      className="overflow-x-auto rounded-lg border border-zinc-200 focus:outline-2 focus:outline-indigo-500 dark:border-zinc-800"
      tabIndex={0}
      role="region"
      aria-label={label}
    >
      <table className="w-full text-left text-sm">
        <thead className="bg-zinc-50 dark:bg-zinc-900">
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
          {rows.map((r) => {
            const more = detail?.(r);
            return (
              <Fragment key={rowKey(r)}>
                <tr className="border-t border-zinc-200 dark:border-zinc-800">
                  {columns.map((c) => (
                    <td key={c.key} className="max-w-xs truncate px-3 py-2">
                      {c.cell(r)}
                    </td>
                  ))}
                  {actions && <td className="px-3 py-2 text-right">{actions(r)}</td>}
                </tr>
                {more && (
                  <tr className="bg-zinc-50 dark:bg-zinc-900/50">
                    <td colSpan={columns.length + (actions ? 1 : 0)} className="px-3 py-2">
                      {more}
                    </td>
                  </tr>
                )}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** Something shown once (a new API key, an invitation link): with a copy button. */
export function ShownOnce({ title, value, onCopied }: { title: string; value: string; onCopied?: () => void }) {
  return (
    <div role="status" className="rounded-md border border-amber-400 bg-amber-50 p-4 text-sm dark:bg-amber-950">
      <p className="font-medium">{title}</p>
      <code className="mt-2 block break-all" data-testid="shown-once">
        {value}
      </code>
      <Button className="mt-2" variant="secondary" onClick={() => void navigator.clipboard.writeText(value).then(onCopied)}>
        Copy
      </Button>
    </div>
  );
}

/** A modal dialog (native <dialog>: focus stays inside, Escape closes), open while mounted. */
export function Modal({ title, onClose, children, wide }: { title: string; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      onClose={onClose}
      aria-labelledby={titleId}
      className={`m-auto ${wide ? 'w-[40rem]' : 'w-[30rem]'} max-w-[calc(100vw-2rem)] rounded-xl border border-zinc-300 bg-white p-5 text-zinc-900 shadow-2xl backdrop:bg-black/30 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100`}
    >
      <h2 id={titleId} className="mb-4 text-lg font-semibold">
        {title}
      </h2>
      {children}
    </dialog>
  );
}
