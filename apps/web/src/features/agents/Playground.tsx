import { useState } from 'react';
import { Button } from '../../components/ui';
import { ApiError, api, streamEvents } from '../../lib/api';
import type { Agent } from './types';

interface Turn {
  role: 'user' | 'assistant' | 'error';
  text: string;
  tools: { id: string; name: string; input: unknown; output?: unknown; error?: unknown }[];
  usage?: { inputTokens: number; outputTokens: number };
}

/** Chat with the agent: the reply streams in as it is written, with each tool call and its result. */
export function Playground({ agent }: { agent: Agent }) {
  const [conversation, setConversation] = useState<string | null>(null);
  const [turns, setTurns] = useState<Turn[]>([]);
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);

  const update = (fn: (t: Turn) => Turn) => setTurns((ts) => [...ts.slice(0, -1), fn(ts.at(-1)!)]);

  const send = async () => {
    const content = text.trim();
    if (!content || busy) return;
    setText('');
    setBusy(true);
    setTurns((ts) => [...ts, { role: 'user', text: content, tools: [] }, { role: 'assistant', text: '', tools: [] }]);
    try {
      const cid = conversation ?? (await api<{ data: { id: string } }>('POST', `/agents/${agent.id}/conversations`, { title: content.slice(0, 80) })).data.id;
      setConversation(cid);
      await streamEvents(`/agents/${agent.id}/conversations/${cid}/messages`, { content }, (event, data) => {
        const d = data as Record<string, unknown>;
        if (event === 'delta') update((t) => ({ ...t, text: t.text + String(d.text) }));
        else if (event === 'tool_call') update((t) => ({ ...t, tools: [...t.tools, { id: String(d.id), name: String(d.name), input: d.input }] }));
        else if (event === 'tool_result')
          update((t) => ({ ...t, tools: t.tools.map((x) => (x.id === d.id ? { ...x, output: d.output, error: d.error } : x)) }));
        else if (event === 'message') update((t) => ({ ...t, text: (d.message as { content: string }).content, usage: d.usage as Turn['usage'] }));
        else if (event === 'error') update(() => ({ role: 'error', text: (d.error as { message: string }).message, tools: [] }));
      });
    } catch (err) {
      update(() => ({ role: 'error', text: err instanceof ApiError ? err.message : 'The message could not be sent.', tools: [] }));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-label="Playground" className="flex h-[75vh] flex-col gap-3 rounded-lg border border-zinc-200 p-3 dark:border-zinc-800">
      <div className="flex items-center justify-between">
        <h2 className="font-semibold">Playground</h2>
        <Button variant="ghost" onClick={() => (setConversation(null), setTurns([]))}>
          New conversation
        </Button>
      </div>
      <ol className="flex flex-1 flex-col gap-2 overflow-y-auto" aria-live="polite">
        {turns.map((t, i) => (
          <li
            key={i}
            className={`max-w-[85%] rounded-lg px-3 py-2 text-sm whitespace-pre-wrap ${t.role === 'user' ? 'self-end bg-indigo-600 text-white' : t.role === 'error' ? 'bg-red-100 text-red-900 dark:bg-red-950 dark:text-red-200' : 'bg-zinc-100 dark:bg-zinc-800'}`}
            data-testid={`turn-${t.role}`}
          >
            {t.tools.map((c) => (
              <details
                key={c.id}
                className="mb-1 rounded border border-zinc-300 bg-white px-2 py-1 text-xs dark:border-zinc-600 dark:bg-zinc-900"
                data-testid="tool-call"
              >
                <summary>
                  Tool {c.name} {c.output === undefined && c.error === undefined ? '…' : c.error ? '✕' : '✓'}
                </summary>
                <pre className="overflow-auto">{JSON.stringify({ input: c.input, output: c.error ?? c.output }, null, 2)}</pre>
              </details>
            ))}
            {t.text || (t.role === 'assistant' && busy && i === turns.length - 1 ? '…' : '')}
            {t.usage && (
              <div className="mt-1 text-[10px] opacity-70">
                {t.usage.inputTokens} in · {t.usage.outputTokens} out tokens
              </div>
            )}
          </li>
        ))}
      </ol>
      <form
        className="flex gap-2"
        onSubmit={(e) => {
          e.preventDefault();
          void send();
        }}
      >
        <label htmlFor="playground-input" className="sr-only">
          Message
        </label>
        <input
          id="playground-input"
          className="flex-1 rounded-md border border-zinc-300 bg-white px-3 py-2 text-sm dark:border-zinc-700 dark:bg-zinc-900"
          value={text}
          onChange={(e) => setText(e.target.value)}
          placeholder={agent.status === 'paused' ? 'The agent is paused' : 'Say something…'}
        />
        <Button type="submit" disabled={busy}>
          Send
        </Button>
      </form>
    </section>
  );
}
