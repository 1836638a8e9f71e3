import { useEffect, useRef, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { ApiError, api } from '../../lib/api';
import { Button } from '../../components/ui';
import type { DeleteImpact as Impact } from '@infinity/contracts';

const records = (n: number) => `${n.toLocaleString()} record${n === 1 ? '' : 's'}`;

/**
 * Asks before deleting records: a native modal <dialog> (focus stays inside, Escape cancels) that
 * names what the delete also removes (cascades, through every model), which relations it empties,
 * and, when a restrict relation holds, why it cannot be done. Nothing is deleted until "Delete".
 */
export function DeleteDialog({
  model,
  label,
  ids,
  onCancel,
  onConfirm,
}: {
  model: string;
  label: string;
  ids: string[];
  onCancel: () => void;
  onConfirm: () => Promise<void>;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const impact = useQuery({
    queryKey: ['delete-impact', model, ids],
    queryFn: async () =>
      ids.length === 1
        ? (await api<{ data: Impact }>('GET', `/data/${model}/${ids[0]}/delete-impact`)).data
        : (await api<{ data: Impact }>('POST', `/data/${model}/delete-impact`, { ids })).data,
    gcTime: 0,
  });
  useEffect(() => {
    const d = dialog.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);

  const i = impact.data;
  const title = `Delete ${ids.length === 1 ? 'this record' : records(ids.length)} of ${label}?`;
  const confirm = async () => {
    setBusy(true);
    try {
      await onConfirm();
    } finally {
      setBusy(false);
    }
  };

  return (
    <dialog
      ref={dialog}
      onClose={onCancel}
      aria-labelledby="delete-title"
      className="m-auto w-[34rem] max-w-[calc(100vw-2rem)] rounded-xl border border-zinc-300 bg-white p-5 text-zinc-900 shadow-2xl backdrop:bg-black/30 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100"
    >
      <h2 id="delete-title" className="text-lg font-semibold">
        {title}
      </h2>
      <div className="mt-3 flex flex-col gap-2 text-sm" aria-live="polite">
        {impact.isPending && <p aria-busy="true">Checking what else this removes…</p>}
        {impact.isError && (
          <p role="alert" className="text-red-700 dark:text-red-400">
            {impact.error instanceof ApiError ? impact.error.message : 'Could not check what this delete affects.'}
          </p>
        )}
        {i && (
          <>
            {i.removed.length === 0 && i.setNull.length === 0 && i.restrict.length === 0 && (
              <p>No other records point at {ids.length === 1 ? 'it' : 'them'}.</p>
            )}
            {i.removed.length > 0 && (
              <div>
                <p className="font-medium">This also deletes:</p>
                <ul className="ml-5 list-disc" aria-label="Also deleted">
                  {i.removed.map((r) => (
                    <li key={r.relation}>
                      {records(r.count)} of <strong>{r.model}</strong>{' '}
                      <span className="text-zinc-600 dark:text-zinc-400">(through {r.relation}, on delete: cascade)</span>
                    </li>
                  ))}
                </ul>
              </div>
            )}
            {i.setNull.length > 0 && (
              <div>
                <p className="font-medium">These keep their records but lose the link:</p>
                <ul className="ml-5 list-disc" aria-label="Links emptied">
                  {i.setNull.map((r) => (
                    <li key={r.relation}>
                      {records(r.count)} of <strong>{r.model}</strong> <span className="text-zinc-600 dark:text-zinc-400">({r.relation} set to empty)</span>
                    </li>
                  ))}
                </ul>
              </div>
            )}
            {i.blocked && (
              <div role="alert" className="rounded-md border border-red-300 bg-red-50 p-3 text-red-800 dark:border-red-800 dark:bg-red-950 dark:text-red-300">
                <p className="font-medium">This cannot be deleted yet:</p>
                <ul className="ml-5 list-disc">
                  {i.restrict.map((r) => (
                    <li key={r.relation}>
                      {records(r.count)} of {r.model} still point{r.count === 1 ? 's' : ''} at it through {r.relation} (on delete: restrict). Delete or reassign
                      them first.
                    </li>
                  ))}
                </ul>
              </div>
            )}
            {i.missing.length > 0 && <p>{records(i.missing.length)} no longer exist.</p>}
            {i.truncated && <p>There are more than 100,000 affected records; the counts are lower bounds.</p>}
            {!i.blocked && <p className="text-zinc-700 dark:text-zinc-300">This cannot be undone.</p>}
          </>
        )}
      </div>
      <div className="mt-5 flex justify-end gap-2">
        <Button variant="secondary" onClick={onCancel} autoFocus>
          Cancel
        </Button>
        <Button variant="danger" onClick={() => void confirm()} disabled={!i || i.blocked || busy}>
          {busy ? 'Deleting…' : 'Delete'}
        </Button>
      </div>
    </dialog>
  );
}
