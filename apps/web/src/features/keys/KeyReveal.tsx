import { useEffect, useId, useRef } from 'react';
import { Button } from '../../components/ui';
import { CopyButton } from './CopyButton';
import { IntegrationSnippets } from './IntegrationSnippets';

/**
 * A new key's one-time view: the key with its copy button and the integrations' snippets with the
 * key filled in. The key lives only in the parent's state while this is open; Done forgets it.
 */
export function KeyReveal({ apiKey, name, role, onDone }: { apiKey: string; name: string; role: string; onDone: () => void }) {
  const titleId = useId();
  const box = useRef<HTMLElement>(null);
  const code = useRef<HTMLElement>(null);
  // Keyboard and screen-reader users land on the new key, not on the form they just sent.
  useEffect(() => box.current?.focus(), [apiKey]);
  return (
    <section
      ref={box}
      tabIndex={-1}
      aria-labelledby={titleId}
      className="flex flex-col gap-5 rounded-lg border border-zinc-200 p-4 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:border-zinc-800"
    >
      <div className="flex flex-col gap-2 rounded-md border border-amber-400 bg-amber-50 p-4 dark:border-amber-700 dark:bg-amber-950">
        <h2 id={titleId} className="font-semibold">
          Key “{name}” ({role}) created. Copy it now: it is not shown again.
        </h2>
        <div className="flex flex-wrap items-center gap-2">
          <code
            ref={code}
            className="rounded-md border border-amber-300 bg-white px-3 py-2 text-sm break-all dark:border-amber-800 dark:bg-zinc-950"
            data-testid="shown-once"
          >
            {apiKey}
          </code>
          <CopyButton text={apiKey} label="Copy key" what="the key" shown={code} />
        </div>
      </div>
      <div className="flex flex-col gap-2">
        <h2 className="font-semibold">Connect an integration</h2>
        <IntegrationSnippets apiKey={apiKey} />
      </div>
      <div>
        <Button onClick={onDone}>Done</Button>
      </div>
    </section>
  );
}
