import { useEffect, useMemo, useRef, useState } from 'react';
import { useNavigate } from 'react-router';
import { useAgentOptions, useFlowOptions, useModels } from '../lib/refs';

export interface Command {
  label: string;
  to: string;
  group: string;
}

/**
 * Ctrl/Cmd-K: type to find any page, model, flow or agent and press Enter to go there. A native
 * <dialog> keeps focus inside while open and closes on Escape.
 */
export function CommandPalette({ pages }: { pages: Command[] }) {
  const [open, setOpen] = useState(false);
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const dialog = useRef<HTMLDialogElement>(null);
  const navigate = useNavigate();
  const models = useModels(open);
  const flows = useFlowOptions(open);
  const agents = useAgentOptions(open);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        setOpen((o) => !o);
      }
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);
  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (open && !d.open) {
      setQuery('');
      setActive(0);
      d.showModal();
    } else if (!open && d.open) d.close();
  }, [open]);

  const all = useMemo<Command[]>(
    () => [
      ...pages,
      ...(models.data ?? []).map((m) => ({ label: m.label || m.name, to: `/data/${m.name}`, group: 'Model' })),
      ...(flows.data ?? []).map((f) => ({ label: f.label, to: `/flows/${f.value}`, group: 'Flow' })),
      ...(agents.data ?? []).map((a) => ({ label: a.label, to: `/agents/${a.value}`, group: 'Agent' })),
    ],
    [pages, models.data, flows.data, agents.data],
  );
  const q = query.trim().toLowerCase();
  const hits = (q ? all.filter((c) => c.label.toLowerCase().includes(q) || c.group.toLowerCase().includes(q)) : all).slice(0, 12);
  const go = (c: Command | undefined) => {
    if (!c) return;
    setOpen(false);
    void navigate(c.to);
  };

  return (
    <dialog
      ref={dialog}
      onClose={() => setOpen(false)}
      aria-label="Command palette"
      className="m-auto mt-[15vh] w-[36rem] max-w-[calc(100vw-2rem)] rounded-xl border border-zinc-300 bg-white p-0 text-zinc-900 shadow-2xl backdrop:bg-black/30 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100"
    >
      <input
        autoFocus
        aria-label="Go to"
        role="combobox"
        aria-expanded="true"
        aria-controls="palette-list"
        aria-activedescendant={hits[active] ? `palette-${active}` : undefined}
        className="w-full border-b border-zinc-200 bg-transparent px-4 py-3 text-base outline-none dark:border-zinc-700"
        placeholder="Go to a page, model, flow or agent…"
        value={query}
        onChange={(e) => (setQuery(e.target.value), setActive(0))}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') setActive((a) => Math.min(a + 1, hits.length - 1));
          else if (e.key === 'ArrowUp') setActive((a) => Math.max(a - 1, 0));
          else if (e.key === 'Enter') go(hits[active]);
          else return;
          e.preventDefault();
        }}
      />
      <ul id="palette-list" role="listbox" className="max-h-80 overflow-y-auto py-1">
        {hits.map((c, i) => (
          <li
            key={`${c.group}-${c.to}`}
            id={`palette-${i}`}
            role="option"
            aria-selected={i === active}
            className={`flex cursor-pointer justify-between px-4 py-2 text-sm ${i === active ? 'bg-indigo-600 text-white' : ''}`}
            onMouseEnter={() => setActive(i)}
            onClick={() => go(c)}
          >
            <span>{c.label}</span>
            <span className="opacity-70">{c.group}</span>
          </li>
        ))}
        {hits.length === 0 && <li className="px-4 py-2 text-sm text-zinc-600 dark:text-zinc-400">Nothing matches.</li>}
      </ul>
    </dialog>
  );
}
