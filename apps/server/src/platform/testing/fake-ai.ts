import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';

/**
 * Loopback stand-ins for the model providers, speaking their wire formats: OpenAI chat
 * completions (streaming, tool calls, structured output) and embeddings, Anthropic messages and
 * Gemini generateContent (both streamed). Every request is kept with the credential it carried,
 * so tests can assert the vault key went to the provider's auth header and nowhere else.
 */
export interface FakeReply {
  text?: string;
  toolCalls?: { name: string; args: unknown }[];
}

export interface SeenRequest {
  provider: 'openai' | 'anthropic' | 'google';
  path: string;
  credential: string | undefined;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

type Msg = { role: string; content?: unknown; tool_calls?: unknown };

/** The text of the last user message, whatever the wire format. */
export function lastUserText(body: Record<string, unknown>): string {
  const messages = (body.messages ?? body.contents ?? []) as Msg[];
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as Msg & { parts?: { text?: string }[] };
    if (m.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    if (Array.isArray(m.content)) return (m.content as { type?: string; text?: string }[]).map((p) => p.text ?? '').join('');
    if (m.parts) return m.parts.map((p) => p.text ?? '').join('');
  }
  return '';
}

function words(text: string, dims: number): number[] {
  const v = new Array<number>(dims).fill(0);
  for (const w of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    let h = 7;
    for (const c of w) h = (h * 31 + c.charCodeAt(0)) >>> 0;
    v[h % dims]! += 1;
  }
  const n = Math.hypot(...v) || 1;
  return v.map((x) => x / n);
}

export function fakeAi(opts: { key: string }) {
  const seen: SeenRequest[] = [];
  let script: (req: SeenRequest) => FakeReply = (r) => ({ text: `echo: ${lastUserText(r.body)}` });
  let failEmbeddings = 0;
  let failStatus = 429;
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = (raw ? JSON.parse(raw) : {}) as Record<string, unknown>;
      const path = (req.url ?? '').split('?')[0]!;
      const provider = path.startsWith('/anthropic') ? 'anthropic' : path.startsWith('/google') ? 'google' : 'openai';
      const credential =
        provider === 'anthropic'
          ? (req.headers['x-api-key'] as string)
          : provider === 'google'
            ? (req.headers['x-goog-api-key'] as string)
            : req.headers.authorization?.replace(/^Bearer /, '');
      const entry: SeenRequest = { provider, path, credential, headers: req.headers, body };
      seen.push(entry);
      if (credential !== opts.key) {
        const masked = `${(credential ?? '').slice(0, 5)}**********${(credential ?? '').slice(-4)}`;
        res
          .writeHead(401, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: { message: `Incorrect API key provided: ${masked}.`, type: 'invalid_request_error', code: 'invalid_api_key' } }));
        return;
      }
      if (path.endsWith('/embeddings')) {
        if (failEmbeddings > 0) {
          failEmbeddings--;
          res
            .writeHead(failStatus, { 'content-type': 'application/json' })
            .end(JSON.stringify({ error: { message: 'Rate limit reached', type: 'rate_limit' } }));
          return;
        }
        const input = (Array.isArray(body.input) ? body.input : [body.input]) as string[];
        const dims = typeof body.dimensions === 'number' ? body.dimensions : 1536;
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            object: 'list',
            model: body.model,
            data: input.map((t, index) => ({ object: 'embedding', index, embedding: words(t, dims) })),
            usage: { prompt_tokens: input.join(' ').split(/\s+/).length, total_tokens: input.join(' ').split(/\s+/).length },
          }),
        );
        return;
      }
      const reply = script(entry);
      const text = reply.text ?? '';
      const inputTokens = JSON.stringify(body.messages ?? body.contents ?? '').length >> 2;
      const outputTokens = Math.max(1, text.split(/\s+/).filter(Boolean).length);
      const pieces = text.match(/\S+\s*/g) ?? [];
      const sse = () => res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const send = (data: unknown, event?: string) =>
        res.write(`${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
      if (provider === 'openai') {
        const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: body.model };
        const calls = (reply.toolCalls ?? []).map((c, i) => ({
          index: i,
          id: `call_${seen.length}_${i}`,
          type: 'function',
          function: { name: c.name, arguments: JSON.stringify(c.args) },
        }));
        if (!body.stream) {
          res.writeHead(200, { 'content-type': 'application/json' }).end(
            JSON.stringify({
              id: 'chatcmpl-1',
              object: 'chat.completion',
              created: 1,
              model: body.model,
              choices: [
                {
                  index: 0,
                  message: { role: 'assistant', content: text || null, ...(calls.length ? { tool_calls: calls.map(({ index: _i, ...c }) => c) } : {}) },
                  finish_reason: calls.length ? 'tool_calls' : 'stop',
                },
              ],
              usage: { prompt_tokens: inputTokens, completion_tokens: outputTokens, total_tokens: inputTokens + outputTokens },
            }),
          );
          return;
        }
        sse();
        send({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
        for (const p of pieces) send({ ...base, choices: [{ index: 0, delta: { content: p }, finish_reason: null }] });
        for (const c of calls) send({ ...base, choices: [{ index: 0, delta: { tool_calls: [c] }, finish_reason: null }] });
        send({ ...base, choices: [{ index: 0, delta: {}, finish_reason: calls.length ? 'tool_calls' : 'stop' }] });
        send({ ...base, choices: [], usage: { prompt_tokens: inputTokens, completion_tokens: outputTokens, total_tokens: inputTokens + outputTokens } });
        send('[DONE]');
        res.end();
        return;
      }
      if (provider === 'anthropic') {
        sse();
        send(
          {
            type: 'message_start',
            message: {
              id: 'msg_1',
              type: 'message',
              role: 'assistant',
              content: [],
              model: body.model,
              stop_reason: null,
              usage: { input_tokens: inputTokens, output_tokens: 1 },
            },
          },
          'message_start',
        );
        send({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }, 'content_block_start');
        for (const p of pieces) send({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: p } }, 'content_block_delta');
        send({ type: 'content_block_stop', index: 0 }, 'content_block_stop');
        send({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: outputTokens } }, 'message_delta');
        send({ type: 'message_stop' }, 'message_stop');
        res.end();
        return;
      }
      sse();
      pieces.forEach((p, i) =>
        send({
          candidates: [{ content: { role: 'model', parts: [{ text: p }] }, index: 0, ...(i === pieces.length - 1 ? { finishReason: 'STOP' } : {}) }],
          ...(i === pieces.length - 1
            ? { usageMetadata: { promptTokenCount: inputTokens, candidatesTokenCount: outputTokens, totalTokenCount: inputTokens + outputTokens } }
            : {}),
        }),
      );
      res.end();
    });
  });
  return {
    seen,
    /** Decide each chat reply (text and/or tool calls) from the request. */
    script: (fn: (req: SeenRequest) => FakeReply) => (script = fn),
    failEmbeddings: (n: number, status = 429) => {
      failEmbeddings = n;
      failStatus = status;
    },
    start: () => new Promise<string>((r) => server.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))),
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A fake started before the suite and stopped after it; `url` is its base URL once started. */
export function fakeAiForSuite(key: string) {
  const fake = fakeAi({ key });
  let url = '';
  beforeAll(async () => {
    url = await fake.start();
  });
  afterAll(() => fake.stop());
  // A getter (Object.assign would copy the empty value once).
  return Object.defineProperty(fake, 'url', { get: () => url }) as typeof fake & { readonly url: string };
}
