/**
 * Load generator of the realtime bench (bench/realtime.ts forks it: a process of its own, so the
 * server's CPU and memory are read apart from the clients'). Opens N WebSocket connections to
 * `GET /api/v1/realtime` (API key in a header, or in the first message as browsers do), each
 * subscribing to the `records` channel of one model, and stamps every event it receives with
 * `performance.timeOrigin + performance.now()` (a clock shared with the parent on one machine).
 * Protocol with the parent (IPC): see `ClientCommand` and `ClientReport`.
 */
import WebSocket from 'ws';

export type ClientCommand =
  | { cmd: 'connect'; url: string; apiKey: string; model: string; n: number; concurrency: number; auth: 'header' | 'message' }
  | { cmd: 'expect'; seq: number }
  | { cmd: 'collect' }
  | { cmd: 'close' };

export type ClientReport =
  | { type: 'connected'; ms: number; open: number; failed: number; firstError: string | null }
  /** Every open client received the event of record `seq` (or this many did when the parent gave up). */
  | { type: 'all'; seq: number }
  | { type: 'collected'; times: Record<number, number[]>; dropped: number; serverErrors: string[] }
  | { type: 'closed' };

const now = () => performance.timeOrigin + performance.now();
const send = (m: ClientReport) => process.send!(m);

const sockets: WebSocket[] = [];
/** Receive times per record seq (the field the parent's writes carry), one slot per client. */
const times = new Map<number, number[]>();
let open = 0;
let dropped = 0;
let expected: number | null = null;
let closing = false;
const serverErrors: string[] = [];
const SEQ = /"seq":(\d+)/;

function onEvent(raw: string) {
  const m = SEQ.exec(raw);
  if (!m) return;
  const seq = Number(m[1]);
  let list = times.get(seq);
  if (!list) times.set(seq, (list = []));
  list.push(now());
  if (seq === expected && list.length >= open) {
    expected = null;
    send({ type: 'all', seq });
  }
}

function connectOne(url: string, apiKey: string, model: string, auth: 'header' | 'message'): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: auth === 'header' ? { 'x-api-key': apiKey } : {}, perMessageDeflate: false });
    let subscribed = false;
    ws.on('open', () => {
      if (auth === 'message') ws.send(JSON.stringify({ type: 'auth', apiKey }));
      ws.send(JSON.stringify({ type: 'subscribe', id: 's1', channel: 'records', model }));
    });
    ws.on('message', (data) => {
      const raw = (data as Buffer).toString(); // binaryType nodebuffer: one Buffer per message
      if (subscribed) {
        if (raw.includes('"type":"event"')) onEvent(raw);
        else if (raw.includes('"type":"error"') && serverErrors.length < 5) serverErrors.push(raw.slice(0, 300));
        return;
      }
      if (raw.includes('"type":"subscribed"')) {
        subscribed = true;
        sockets.push(ws);
        open++;
        resolve();
      } else if (raw.includes('"type":"error"')) reject(new Error(raw.slice(0, 300)));
    });
    ws.on('close', (code, reason) => {
      if (!subscribed) reject(new Error(`closed before subscribing: ${code} ${reason.toString()}`));
      else if (!closing) {
        open--;
        dropped++;
      }
    });
    ws.on('error', (err) => {
      if (!subscribed) reject(err);
    });
  });
}

async function connectAll(c: Extract<ClientCommand, { cmd: 'connect' }>) {
  const t = now();
  let next = 0;
  let failed = 0;
  let firstError: string | null = null;
  const lane = async () => {
    while (next < c.n) {
      next++;
      await connectOne(c.url, c.apiKey, c.model, c.auth).catch((err: unknown) => {
        failed++;
        firstError ??= String(err instanceof Error ? err.message : err);
      });
    }
  };
  await Promise.all(Array.from({ length: c.concurrency }, lane));
  send({ type: 'connected', ms: now() - t, open, failed, firstError });
}

process.on('message', (m: ClientCommand) => {
  if (m.cmd === 'connect') void connectAll(m);
  else if (m.cmd === 'expect') {
    if ((times.get(m.seq)?.length ?? 0) >= open) send({ type: 'all', seq: m.seq });
    else expected = m.seq;
  } else if (m.cmd === 'collect') send({ type: 'collected', times: Object.fromEntries(times), dropped, serverErrors });
  else {
    closing = true;
    let left = sockets.length;
    if (left === 0) send({ type: 'closed' });
    for (const ws of sockets) {
      ws.once('close', () => --left === 0 && send({ type: 'closed' }));
      ws.close();
    }
  }
});
process.on('disconnect', () => process.exit(0));
