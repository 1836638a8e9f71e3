import { type KeyboardEvent, useId, useRef, useState } from 'react';
import { CopyButton } from './CopyButton';
import { type Snippet, type SnippetGroup, integrationSnippets } from './snippets';

/**
 * The connection snippets of every integration, one tab each (WAI-ARIA tabs: arrow keys, Home and
 * End move between tabs), each snippet with its copy button. `apiKey` is the new key in its
 * one-time view, else null: the snippets then show a placeholder.
 */
export function IntegrationSnippets({ apiKey, origin = location.origin }: { apiKey: string | null; origin?: string }) {
  const groups = integrationSnippets(origin, apiKey);
  const [active, setActive] = useState(0);
  const tabs = useRef<(HTMLButtonElement | null)[]>([]);
  const base = useId();
  const select = (i: number) => {
    const n = (i + groups.length) % groups.length;
    setActive(n);
    tabs.current[n]?.focus();
  };
  const onKeyDown = (e: KeyboardEvent) => {
    const moves: Record<string, number> = { ArrowRight: active + 1, ArrowLeft: active - 1, Home: 0, End: groups.length - 1 };
    const to = moves[e.key];
    if (to === undefined) return;
    e.preventDefault();
    select(to);
  };
  const group = groups[active]!;
  return (
    <div className="flex flex-col gap-3">
      <div role="tablist" aria-label="Integration" className="flex flex-wrap gap-1 border-b border-zinc-200 dark:border-zinc-700" onKeyDown={onKeyDown}>
        {groups.map((g, i) => (
          <button
            key={g.id}
            ref={(el) => {
              tabs.current[i] = el;
            }}
            type="button"
            role="tab"
            id={`${base}-tab-${g.id}`}
            aria-controls={`${base}-panel`}
            aria-selected={i === active}
            tabIndex={i === active ? 0 : -1}
            onClick={() => setActive(i)}
            className={`-mb-px border-b-2 px-3 py-2 text-sm font-medium focus-visible:outline-2 focus-visible:outline-indigo-500 ${
              i === active
                ? 'border-indigo-600 text-indigo-700 dark:border-indigo-400 dark:text-indigo-300'
                : 'border-transparent text-zinc-600 hover:text-zinc-900 dark:text-zinc-400 dark:hover:text-zinc-100'
            }`}
          >
            {g.label}
          </button>
        ))}
      </div>
      <Panel key={group.id} id={`${base}-panel`} labelledBy={`${base}-tab-${group.id}`} group={group} />
    </div>
  );
}

function Panel({ id, labelledBy, group }: { id: string; labelledBy: string; group: SnippetGroup }) {
  return (
    <div
      role="tabpanel"
      id={id}
      aria-labelledby={labelledBy}
      tabIndex={0}
      className="flex flex-col gap-3 rounded-sm focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500"
    >
      <p className="text-sm">{group.intro}</p>
      <p className="text-xs text-zinc-700 dark:text-zinc-300">
        <span className="font-medium">Key to give it: </span>
        {group.role}
      </p>
      {group.snippets.map((s) => (
        <SnippetBlock key={s.id} snippet={s} />
      ))}
    </div>
  );
}

function SnippetBlock({ snippet }: { snippet: Snippet }) {
  const code = useRef<HTMLElement>(null);
  const titleId = useId();
  return (
    <section aria-labelledby={titleId} className="overflow-hidden rounded-md border border-zinc-200 bg-white dark:border-zinc-700 dark:bg-zinc-950">
      <div className="flex items-center justify-between gap-3 border-b border-zinc-200 bg-zinc-50 px-3 py-1.5 dark:border-zinc-700 dark:bg-zinc-900">
        <div className="flex min-w-0 flex-col">
          <h3 id={titleId} className="text-sm font-medium">
            {snippet.title}
          </h3>
          {snippet.note && <p className="text-xs text-zinc-600 dark:text-zinc-400">{withCode(snippet.note)}</p>}
        </div>
        <CopyButton text={snippet.text} label={`Copy ${snippet.title}`} what={snippet.title} shown={code} small />
      </div>
      <pre className="overflow-x-auto p-3 text-xs leading-5">
        <code ref={code} data-testid={`snippet-${snippet.id}`} className="whitespace-pre-wrap wrap-anywhere">
          {snippet.text}
        </code>
      </pre>
    </section>
  );
}

/** `text in backticks` as inline code, the rest as text. */
function withCode(text: string) {
  return text.split('`').map((part, i) =>
    i % 2 ? (
      <code key={i} className="rounded bg-zinc-200/70 px-1 dark:bg-zinc-800">
        {part}
      </code>
    ) : (
      part
    ),
  );
}
