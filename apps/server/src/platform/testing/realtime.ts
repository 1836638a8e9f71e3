import http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import type { BuiltApp } from '../../app.js';
import { Inbox } from './events.js';

/** Test clients of the realtime endpoints (a real `ws` WebSocket, a real HTTP SSE stream) on a listening app. */

/** Listens on a loopback port (once per app) and returns the base URL. */
export async function listening(built: BuiltApp): Promise<string> {
  const addr = built.app.server.address() as AddressInfo | null;
  if (addr) return `127.0.0.1:${addr.port}`;
  await built.app.listen({ port: 0, host: '127.0.0.1' });
  return `127.0.0.1:${(built.app.server.address() as AddressInfo).port}`;
}

export type Message = Record<string, any>;

export class WsClient {
  readonly inbox = new Inbox<Message>();
  readonly closed: Promise<{ code: number; reason: string }>;
  pings = 0;

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (data: Buffer) => this.inbox.push(JSON.parse(data.toString('utf8')) as Message));
    ws.on('ping', () => this.pings++);
    ws.on('error', () => undefined);
  }

  /** Opens a WebSocket; resolves when open (or with the HTTP status when the upgrade is refused). */
  static async open(base: string, headers: Record<string, string> = {}): Promise<WsClient> {
    const ws = new WebSocket(`ws://${base}/api/v1/realtime`, { headers });
    const client = new WsClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (req, res) => {
        req.destroy();
        reject(new Error(`upgrade refused: ${res.statusCode}`));
      });
      ws.once('error', reject);
    });
    return client;
  }

  /** Opens with a token or key in the Authorization header and waits until authenticated. */
  static async as(base: string, credential: string): Promise<WsClient> {
    const c = await WsClient.open(base, { authorization: `Bearer ${credential}` });
    await c.wait((m) => m.type === 'authenticated' || m.type === 'error');
    return c;
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  wait(pred: (m: Message) => boolean): Promise<Message> {
    return this.inbox.wait(pred);
  }

  /** Subscribes and resolves with the answer: `subscribed` or `error` for this id. */
  async subscribe(id: string, params: Record<string, unknown>): Promise<Message> {
    const from = this.inbox.items.length;
    this.send({ type: 'subscribe', id, ...params });
    return this.wait((m) => m.id === id && (m.type === 'subscribed' || m.type === 'error') && this.inbox.items.indexOf(m) >= from);
  }

  events(id?: string): Message[] {
    return this.inbox.items.filter((m) => m.type === 'event' && (id === undefined || m.id === id));
  }

  close(): void {
    this.ws.close();
  }
}

export interface SseFrame {
  id?: string;
  event?: string;
  data?: Message;
  comment?: string;
}

/** A server-sent events stream read frame by frame. */
export class SseClient {
  readonly frames = new Inbox<SseFrame>();
  status = 0;
  body = '';
  private req: http.ClientRequest | undefined;
  private res: http.IncomingMessage | undefined;
  readonly ended: Promise<void>;
  private end!: () => void;

  private constructor() {
    this.ended = new Promise((r) => (this.end = r));
  }

  /** Opens `/api/v1/events?…`; resolves once the response headers (or an error body) arrived. */
  static open(base: string, query: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const c = new SseClient();
    return new Promise((resolve, reject) => {
      const [host, port] = base.split(':');
      c.req = http.get({ host, port: Number(port), path: `/api/v1/events?${query}`, headers: { accept: 'text/event-stream', ...headers } }, (res) => {
        c.res = res;
        c.status = res.statusCode ?? 0;
        res.setEncoding('utf8');
        let buf = '';
        if (c.status !== 200) {
          res.on('data', (d: string) => (c.body += d));
          res.on('end', () => {
            c.end();
            resolve(c);
          });
          return;
        }
        res.on('data', (d: string) => {
          buf += d;
          let i: number;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            c.frames.push(parseFrame(block));
          }
        });
        res.on('end', () => c.end());
        res.on('close', () => c.end());
        resolve(c);
      });
      c.req.on('error', reject);
    });
  }

  wait(pred: (f: SseFrame) => boolean): Promise<SseFrame> {
    return this.frames.wait(pred);
  }

  events(): SseFrame[] {
    return this.frames.items.filter((f) => f.id !== undefined);
  }

  /** Stops reading (the server's writes then pile up), and reads again. */
  pause(): void {
    this.res?.pause();
  }

  resume(): void {
    this.res?.resume();
  }

  close(): void {
    this.req?.destroy();
  }
}

function parseFrame(block: string): SseFrame {
  const f: SseFrame = {};
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) f.comment = line.slice(1).trim();
    else if (line.startsWith('id: ')) f.id = line.slice(4);
    else if (line.startsWith('event: ')) f.event = line.slice(7);
    else if (line.startsWith('data: ')) f.data = JSON.parse(line.slice(6)) as Message;
  }
  return f;
}
