/**
 * Loopback webhook receiver of the realtime bench (bench/realtime.ts forks it): answers 204 as soon
 * as a delivery's body has arrived, and counts deliveries (distinct `webhook-id`s, repeats apart)
 * with their arrival times on the clock the parent shares (`performance.timeOrigin + performance.now()`).
 * Protocol with the parent (IPC): see `ReceiverCommand` and `ReceiverReport`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type ReceiverCommand = { cmd: 'reset' } | { cmd: 'wait'; count: number; quietMs: number; timeoutMs: number };
export type ReceiverReport =
  | { type: 'listening'; port: number }
  /** Arrival times of every distinct delivery since the last reset, in order; repeats of an id already seen. */
  | { type: 'arrived'; times: number[]; repeats: number; unsigned: number };

const now = () => performance.timeOrigin + performance.now();
const send = (m: ReceiverReport) => process.send!(m);

let times: number[] = [];
let seen = new Set<string>();
let repeats = 0;
let unsigned = 0;
let lastAt = 0;

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const id = req.headers['webhook-id'];
    if (typeof id !== 'string' || !req.headers['webhook-signature']) unsigned++;
    else if (seen.has(id)) repeats++;
    else {
      seen.add(id);
      times.push((lastAt = now()));
    }
    res.writeHead(204).end();
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => send({ type: 'listening', port: (server.address() as AddressInfo).port }));

/** Answers when `count` deliveries have arrived and none for `quietMs` since (late extras count too), or at the deadline. */
function wait(m: Extract<ReceiverCommand, { cmd: 'wait' }>) {
  const deadline = now() + m.timeoutMs;
  const check = () => {
    const t = now();
    if ((times.length >= m.count && t - lastAt >= m.quietMs) || t > deadline) send({ type: 'arrived', times, repeats, unsigned });
    else setTimeout(check, 20);
  };
  check();
}

process.on('message', (m: ReceiverCommand) => {
  if (m.cmd === 'reset') {
    times = [];
    seen = new Set();
    repeats = 0;
    unsigned = 0;
  } else wait(m);
});
process.on('disconnect', () => process.exit(0));
