/**
 * Realtime and outbound webhooks (issue #27, "Speed and scale"), on the embedded database and on
 * PostgreSQL, against the real `infinity start` process:
 *  1. fan-out: N WebSocket subscribers (a separate load-generator process, bench/realtime-clients.ts)
 *     on the `records` channel of one model; server memory per idle connection (RSS from /proc, heap
 *     from /metrics), connect rate, and the latency of one record created to every subscriber;
 *  2. outbound deliveries to a loopback receiver (bench/webhook-receiver.ts) with 1 and 50
 *     subscriptions on record.created: sustained deliveries/s;
 *  3. write-path cost: single inserts/s with no subscription, with one webhook subscription on the
 *     model, with one realtime subscriber, in interleaved rounds (only same-round pairs compare).
 * Also how the two cores were shared: CPU time of the server, the load generator, this process and
 * (PostgreSQL) the database's backends, against the whole machine's busy time.
 *   npm run bench -- --realtime [--quick] [--subscribers 1000,10000] [--backends embedded,postgres] [--parts fanout,deliveries,write-path]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import WebSocket from 'ws';
import type { ClientCommand, ClientReport } from './realtime-clients.js';
import type { ReceiverCommand, ReceiverReport } from './webhook-receiver.js';
import { type Backend, type LoadResult, PG_ADMIN_URL, backendEnv, cpuSeconds, freePort, load, memKiB, postJson, quick, root, spawnServer } from './lib.js';

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const argList = (name: string) => {
  const at = process.argv.indexOf(name);
  return at < 0 ? undefined : process.argv[at + 1]!.split(',');
};
const SUBSCRIBERS = (argList('--subscribers') ?? (quick ? ['1000'] : ['1000', '10000'])).map(Number);
const BACKENDS = (argList('--backends') ?? ['embedded', 'postgres']) as Backend[];
const PARTS = new Set(argList('--parts') ?? ['fanout', 'deliveries', 'write-path']);
const CHANGES = quick ? 5 : 20;
/** Connections being opened at once by the load generator (the server's accept backlog is 511). */
const CONNECT_CONCURRENCY = 100;
const METRICS_TOKEN = 'bench-metrics-token';

/** The soft and hard open-file limits of this process (children inherit them). */
function fileLimits(): { soft: number; hard: number } {
  const m = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'))!;
  const n = (s: string) => (s === 'unlimited' ? Infinity : Number(s));
  return { soft: n(m[1]!), hard: n(m[2]!) };
}

/**
 * A child node process speaking the IPC protocol of `C` commands and `R` reports, started through
 * `sh -c 'ulimit -Sn <hard>'` so that 10,000 sockets fit whatever soft limit the shell gave us.
 */
function child<C, R extends { type: string }>(file: string) {
  const { hard } = fileLimits();
  const proc: ChildProcess = spawn(
    '/bin/sh',
    ['-c', `ulimit -Sn ${hard === Infinity ? 'unlimited' : hard} && exec "$0" "$@"`, process.execPath, '--import', 'tsx', path.join(root, 'bench', file)],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' },
  );
  const waiters: { pred: (r: R) => boolean; resolve: (r: R) => void }[] = [];
  proc.on('message', (r: R) => {
    const i = waiters.findIndex((w) => w.pred(r));
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(r);
  });
  /** Sends `c` (if any) and answers the first report `pred` accepts, or null after `timeoutMs`. */
  const ask = <T extends R>(c: C | null, pred: (r: R) => r is T, timeoutMs = 600_000): Promise<T | null> =>
    new Promise((resolve) => {
      const w = {
        pred,
        resolve: (r: R) => {
          clearTimeout(timer);
          resolve(r as T);
        },
      };
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(w), 1);
        resolve(null);
      }, timeoutMs);
      waiters.push(w);
      if (c) proc.send(c);
    });
  const is =
    <K extends R['type']>(type: K) =>
    (r: R): r is Extract<R, { type: K }> =>
      r.type === type;
  return { proc, ask, is, kill: () => proc.kill() };
}

/** Machine-wide busy CPU time (all cores) from /proc/stat, seconds. */
function machineBusySeconds(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - f[3]! - f[4]!) / 100; // minus idle and iowait
}

export interface CpuShare {
  wallS: number;
  /** Share of one core each used over the phase, %; `others` is the rest of the machine's busy time (other work on this VM). */
  server: number;
  loadGenerator: number;
  database: number | null;
  bench: number;
  others: number;
  cores: number;
}

/** CPU time of the processes of a phase, read at its start and end. `dbPids` lists the database backends (PostgreSQL). */
function cpuWatch(pids: { server: number; loadGenerator?: number }, dbPids: () => Promise<number[]>) {
  const read = async () => {
    const db = await dbPids();
    return {
      wall: now(),
      server: cpuSeconds(pids.server),
      loadGenerator: pids.loadGenerator ? cpuSeconds(pids.loadGenerator) : 0,
      db: new Map(db.map((p) => [p, cpuSeconds(p)])),
      bench: process.cpuUsage(),
      machine: machineBusySeconds(),
    };
  };
  const start = read();
  return async (): Promise<CpuShare> => {
    const a = await start;
    const b = await read();
    const wallS = (b.wall - a.wall) / 1000;
    let db = 0;
    for (const [p, s] of b.db) db += s - (a.db.get(p) ?? s);
    const bu = process.cpuUsage(a.bench);
    const used = {
      server: b.server - a.server,
      loadGenerator: b.loadGenerator - a.loadGenerator,
      database: db,
      bench: (bu.user + bu.system) / 1e6,
    };
    const pct = (s: number) => Math.round((100 * s) / wallS);
    const ours = used.server + used.loadGenerator + used.database + used.bench;
    return {
      wallS: Math.round(wallS * 10) / 10,
      server: pct(used.server),
      loadGenerator: pct(used.loadGenerator),
      database: b.db.size ? pct(used.database) : null,
      bench: pct(used.bench),
      others: Math.max(0, pct(b.machine - a.machine - ours)),
      cores: os.cpus().length,
    };
  };
}

const pctile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN);
const ms = (x: number) => Math.round(x * 10) / 10;

export interface FanoutRow {
  backend: Backend;
  subscribers: number;
  connected: number;
  connectFailed: number;
  firstConnectError: string | null;
  connectPerS: number;
  rssPerConnKiB: number;
  heapPerConnKiB: number | null;
  rssBeforeMiB: number;
  rssAfterMiB: number;
  changes: number;
  /** Deliveries received of changes × connected expected. */
  received: number;
  expected: number;
  /**
   * Receive time minus the moment the write's HTTP response had been read. Negative when the server
   * sends the event to subscribers before it answers the write (it does: see writeMs vs writeAloneMs).
   */
  fromResponse: { p50: number; p99: number; min: number; max: number };
  /** Receive time minus the moment the write was sent (includes the write itself): the headline figure. */
  fromRequest: { p50: number; p99: number; max: number };
  /** Per change, when the last subscriber had it (from the request): median and worst. */
  lastSubscriber: { p50: number; max: number };
  writeMs: { p50: number; max: number };
  /** The same write with nobody subscribed (before the subscribers connect), p50. */
  writeAloneMs: number;
  dropped: number;
  serverErrors: string[];
  cpuConnect: CpuShare;
  cpuFanout: CpuShare;
}

export interface DeliveryRow {
  backend: Backend;
  subscriptions: number;
  records: number;
  expected: number;
  arrived: number;
  repeats: number;
  unsigned: number;
  /** Deliveries / time from the first write to the last arrival. */
  overallPerS: number;
  /** Between the 10th and the 90th percentile arrival. */
  steadyPerS: number;
  writeMs: number;
  lastArrivalAfterWritesMs: number;
  /** When deliveries arrived, from the first write: the 50th, 90th and 99th percentile and the last. */
  arrivalMs: { p50: number; p90: number; p99: number; last: number };
  cpu: CpuShare;
}

export interface WritePathRow {
  backend: Backend;
  rounds: { plain: LoadResult; webhook: LoadResult; filtered: LoadResult; realtime: LoadResult; webhookDrainMs: number }[];
  /** Per same-round pair, % fewer inserts/s than with no subscription: median and range. */
  webhookCost: { median: number; min: number; max: number };
  /** A subscription on the model whose filter matches none of the writes: the outbox and its consumer, no sending. */
  filteredCost: { median: number; min: number; max: number };
  realtimeCost: { median: number; min: number; max: number };
}

export interface RealtimeBench {
  at: string;
  machine: { cores: number; loadavg: number[]; node: string; fileLimit: { soft: number; hard: number } };
  fanout: FanoutRow[];
  deliveries: DeliveryRow[];
  writePath: WritePathRow[];
}

async function startServer(backend: Backend) {
  const env: Record<string, string> = {
    ...(await backendEnv(backend, 'rt')),
    INFINITY_LOG_LEVEL: 'warn',
    INFINITY_METRICS_TOKEN: METRICS_TOKEN,
    INFINITY_HTTP_ALLOW: '127.0.0.1/32',
    INFINITY_API_RATE_LIMIT: '0',
    INFINITY_PUBLIC_RATE_LIMIT: '1000000',
  };
  const port = await freePort();
  process.stderr.write(`realtime bench: starting infinity (${backend})…\n`);
  const server = await spawnServer([path.join(root, 'apps/server/dist/cli.js'), 'start', '--port', String(port)], env, port, '/health/ready');
  const dbName = env.DATABASE_URL?.split('/').pop();
  const admin = dbName ? new pg.Client({ connectionString: PG_ADMIN_URL }) : null;
  await admin?.connect();
  const dbPids = async () =>
    admin ? (await admin.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1', [dbName])).rows.map((r) => r.pid) : [];
  return {
    ...server,
    dbPids,
    async stop() {
      server.kill();
      if (admin) {
        await admin.query(`drop database "${dbName}" with (force)`);
        await admin.end();
      }
    },
  };
}

/** Server memory now: RSS from /proc and V8's used heap from /metrics; median of 5 readings 300 ms apart. */
async function serverMemory(url: string, pid: number): Promise<{ rssKiB: number; heapKiB: number | null }> {
  const rss: number[] = [];
  const heap: number[] = [];
  for (let i = 0; i < 5; i++) {
    if (i) await sleep(300);
    rss.push(memKiB(pid));
    const text = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } }).then(
      (r) => (r.ok ? r.text() : ''),
      () => '',
    );
    const m = /^infinity_nodejs_heap_size_used_bytes (\d+(?:\.\d+)?)/m.exec(text);
    if (m) heap.push(Number(m[1]) / 1024);
  }
  const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { rssKiB: mid(rss), heapKiB: heap.length ? mid(heap) : null };
}

type Server = Awaited<ReturnType<typeof startServer>>;

/** Every model of this bench: a sequence number (how the load generator tells changes apart) and a note. */
async function createModel(api: string, h: Record<string, string>, name: string) {
  const fields = [
    { name: 'seq', type: 'integer' },
    { name: 'note', type: 'string' },
  ];
  await postJson(`${api}/models`, { name, fields }, h);
}

async function fanout(backend: Backend, server: Server, apiKey: string, n: number): Promise<FanoutRow> {
  const api = `${server.url}/api/v1`;
  const wsUrl = `${server.url.replace('http', 'ws')}/api/v1/realtime`;
  const h = { 'x-api-key': apiKey };
  const model = `rt_${n}`;
  await createModel(api, h, model);
  // Warm-up on a throw-away load generator: the server's WebSocket and subscription paths get compiled.
  {
    const warm = child<ClientCommand, ClientReport>('realtime-clients.ts');
    const c = await warm.ask({ cmd: 'connect', url: wsUrl, apiKey, model, n: 50, concurrency: 10, auth: 'header' }, warm.is('connected'));
    if (!c || c.open === 0) throw new Error(`realtime bench: no WebSocket subscriber could connect to ${wsUrl}: ${c?.firstError ?? 'timeout'}`);
    await postJson(`${api}/data/${model}`, { seq: -1, note: 'warm-up' }, h);
    await warm.ask({ cmd: 'close' }, warm.is('closed'), 30_000);
    warm.kill();
  }
  const alone: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = now();
    await postJson(`${api}/data/${model}`, { seq: -2, note: 'nobody listens' }, h);
    alone.push(now() - t);
  }
  alone.sort((a, b) => a - b);
  const gen = child<ClientCommand, ClientReport>('realtime-clients.ts');
  await sleep(2000);
  const before = await serverMemory(server.url, server.pid);
  process.stderr.write(`realtime bench (${backend}): opening ${n} WebSocket subscribers…\n`);
  const cpuConnect = cpuWatch({ server: server.pid, loadGenerator: gen.proc.pid! }, server.dbPids);
  const conn = (await gen.ask({ cmd: 'connect', url: wsUrl, apiKey, model, n, concurrency: CONNECT_CONCURRENCY, auth: 'header' }, gen.is('connected')))!;
  const connectShare = await cpuConnect();
  await sleep(3000);
  const after = await serverMemory(server.url, server.pid);

  const writes: { t0: number; t1: number }[] = [];
  const cpuFanout = cpuWatch({ server: server.pid, loadGenerator: gen.proc.pid! }, server.dbPids);
  for (let seq = 0; seq <= CHANGES; seq++) {
    const t0 = now();
    await postJson(`${api}/data/${model}`, { seq, note: 'change' }, h);
    writes.push({ t0, t1: now() });
    await gen.ask({ cmd: 'expect', seq }, (r): r is Extract<ClientReport, { type: 'all' }> => r.type === 'all' && r.seq === seq, 15_000);
  }
  const fanoutShare = await cpuFanout();
  const got = (await gen.ask({ cmd: 'collect' }, gen.is('collected')))!;
  await gen.ask({ cmd: 'close' }, gen.is('closed'), 60_000);
  gen.kill();

  // seq 0 was a warm-up write (first request on this connection pool): not counted.
  const fromResponse: number[] = [];
  const fromRequest: number[] = [];
  const last: number[] = [];
  const writeMs: number[] = [];
  for (let seq = 1; seq <= CHANGES; seq++) {
    const w = writes[seq]!;
    const ts = got.times[seq] ?? [];
    for (const t of ts) {
      fromResponse.push(t - w.t1);
      fromRequest.push(t - w.t0);
    }
    if (ts.length) last.push(Math.max(...ts) - w.t0);
    writeMs.push(w.t1 - w.t0);
  }
  for (const xs of [fromResponse, fromRequest, last, writeMs]) xs.sort((a, b) => a - b);
  return {
    backend,
    subscribers: n,
    connected: conn.open,
    connectFailed: conn.failed,
    firstConnectError: conn.firstError,
    connectPerS: Math.round(conn.open / (conn.ms / 1000)),
    rssPerConnKiB: ms((after.rssKiB - before.rssKiB) / Math.max(1, conn.open)),
    heapPerConnKiB: after.heapKiB !== null && before.heapKiB !== null ? ms((after.heapKiB - before.heapKiB) / Math.max(1, conn.open)) : null,
    rssBeforeMiB: Math.round(before.rssKiB / 1024),
    rssAfterMiB: Math.round(after.rssKiB / 1024),
    changes: CHANGES,
    received: fromResponse.length,
    expected: CHANGES * conn.open,
    fromResponse: {
      p50: ms(pctile(fromResponse, 50)),
      p99: ms(pctile(fromResponse, 99)),
      min: ms(fromResponse[0] ?? NaN),
      max: ms(fromResponse.at(-1) ?? NaN),
    },
    fromRequest: { p50: ms(pctile(fromRequest, 50)), p99: ms(pctile(fromRequest, 99)), max: ms(fromRequest.at(-1) ?? NaN) },
    lastSubscriber: { p50: ms(pctile(last, 50)), max: ms(last.at(-1) ?? NaN) },
    writeMs: { p50: ms(pctile(writeMs, 50)), max: ms(writeMs.at(-1) ?? NaN) },
    writeAloneMs: ms(pctile(alone, 50)),
    dropped: got.dropped,
    serverErrors: got.serverErrors,
    cpuConnect: connectShare,
    cpuFanout: fanoutShare,
  };
}

type Receiver = ReturnType<typeof child<ReceiverCommand, ReceiverReport>> & { url: string };

async function startReceiver(): Promise<Receiver> {
  const r = child<ReceiverCommand, ReceiverReport>('webhook-receiver.ts');
  const l = (await r.ask(null, r.is('listening'), 30_000))!;
  return { ...r, url: `http://127.0.0.1:${l.port}/hook` };
}

async function subscribe(api: string, adminKey: string, url: string, model: string, filter?: Record<string, unknown>): Promise<string> {
  const res = await postJson(`${api}/webhooks`, { url, events: ['record.created'], model, filter, description: 'bench' }, { 'x-api-key': adminKey });
  return res.data.id as string;
}

async function deliveries(backend: Backend, server: Server, keys: { editor: string; admin: string }, receiver: Receiver, subs: number): Promise<DeliveryRow> {
  const api = `${server.url}/api/v1`;
  const model = `deliv_${subs}`;
  const h = { 'x-api-key': keys.editor };
  await createModel(api, h, model);
  const ids: string[] = [];
  for (let i = 0; i < subs; i++) ids.push(await subscribe(api, keys.admin, receiver.url, model));
  // About 5,000 deliveries with one subscription, 10,000 with 50 (quick: a fifth).
  const records = Math.round((subs === 1 ? 5000 : 10_000 / subs) / (quick ? 5 : 1));
  const batch = Math.min(1000, records);
  receiver.proc.send({ cmd: 'reset' } satisfies ReceiverCommand);
  process.stderr.write(`realtime bench (${backend}): ${records} records → ${subs} webhook subscription(s)…\n`);
  const cpu = cpuWatch({ server: server.pid, loadGenerator: receiver.proc.pid! }, server.dbPids);
  const t0 = now();
  for (let done = 0; done < records; done += batch) {
    const items = Array.from({ length: Math.min(batch, records - done) }, (_, i) => ({ seq: done + i, note: 'delivery' }));
    await postJson(`${api}/data/${model}/bulk`, { op: 'create', items }, h);
  }
  const tWrites = now();
  const expected = records * subs;
  const got = (await receiver.ask({ cmd: 'wait', count: expected, quietMs: 1000, timeoutMs: 240_000 }, receiver.is('arrived'), 300_000))!;
  const share = await cpu();
  for (const id of ids) await fetch(`${api}/webhooks/${id}`, { method: 'DELETE', headers: { 'x-api-key': keys.admin } });
  const ts = got.times;
  const lastAt = ts.at(-1) ?? tWrites;
  const t10 = pctile(ts, 10);
  const t90 = pctile(ts, 90);
  return {
    backend,
    subscriptions: subs,
    records,
    expected,
    arrived: ts.length,
    repeats: got.repeats,
    unsigned: got.unsigned,
    overallPerS: Math.round(ts.length / ((lastAt - t0) / 1000)),
    steadyPerS: Math.round((0.8 * ts.length) / ((t90 - t10) / 1000)),
    writeMs: Math.round(tWrites - t0),
    lastArrivalAfterWritesMs: Math.round(lastAt - tWrites),
    arrivalMs: { p50: Math.round(pctile(ts, 50) - t0), p90: Math.round(t90 - t0), p99: Math.round(pctile(ts, 99) - t0), last: Math.round(lastAt - t0) },
    cpu: share,
  };
}

async function writePath(backend: Backend, server: Server, keys: { editor: string; admin: string }, receiver: Receiver): Promise<WritePathRow> {
  const api = `${server.url}/api/v1`;
  const h = { 'x-api-key': keys.editor };
  for (const name of ['ab_plain', 'ab_hooked', 'ab_filtered', 'ab_watched']) await createModel(api, h, name);
  await subscribe(api, keys.admin, receiver.url, 'ab_hooked');
  await subscribe(api, keys.admin, receiver.url, 'ab_filtered', { note: 'never written' });
  receiver.proc.send({ cmd: 'reset' } satisfies ReceiverCommand);
  // The realtime subscriber is connected only for its own runs: while it is, the process listens to
  // record.created for every model (and matches each event against its subscriptions).
  let events = 0;
  const watch = async () => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/api/v1/realtime`, { headers: h, perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', id: 's1', channel: 'records', model: 'ab_watched' })));
      ws.on('message', (d) => {
        const raw = (d as Buffer).toString();
        if (raw.includes('"type":"subscribed"')) resolve();
        else if (raw.includes('"type":"event"')) events++;
        else if (raw.includes('"type":"error"')) reject(new Error(raw));
      });
      ws.on('error', reject);
    });
    return () => new Promise<void>((resolve) => ws.once('close', () => resolve()).close());
  };
  let seq = 0;
  const body = () => JSON.stringify({ seq: ++seq, note: 'write path' });
  const duration = quick ? 2 : 4;
  const rounds = quick ? 2 : 5;
  process.stderr.write(`realtime bench (${backend}): write path, ${rounds} interleaved rounds…\n`);
  await load({ url: `${api}/data/ab_plain`, headers: h, body, duration: 2, connections: 10 }); // warm-up
  let hookedTotal = 0;
  const out: WritePathRow['rounds'] = [];
  for (let r = 0; r < rounds; r++) {
    const round = {} as WritePathRow['rounds'][number];
    const order = (['plain', 'webhook', 'filtered', 'realtime'] as const).map((_, i, a) => a[(i + r) % a.length]!);
    for (const kind of order) {
      const model = { plain: 'ab_plain', webhook: 'ab_hooked', filtered: 'ab_filtered', realtime: 'ab_watched' }[kind];
      const unwatch = kind === 'realtime' ? await watch() : null;
      round[kind] = await load({ url: `${api}/data/${model}`, headers: h, body, duration, connections: 10 });
      await unwatch?.();
      if (kind === 'webhook') {
        // Let the deliveries of this run finish before the next run, so that no run pays for another's.
        hookedTotal += round.webhook.total;
        const t = now();
        const got = await receiver.ask({ cmd: 'wait', count: hookedTotal, quietMs: 500, timeoutMs: 120_000 }, receiver.is('arrived'), 180_000);
        round.webhookDrainMs = Math.max(0, Math.round((got?.times.at(-1) ?? t) - t));
      }
    }
    out.push(round);
  }
  const cost = (k: 'webhook' | 'filtered' | 'realtime') => {
    const xs = out.map((r) => pctLess(r[k], r.plain)).sort((a, b) => a - b);
    return { median: xs[Math.floor(xs.length / 2)]!, min: xs[0]!, max: xs.at(-1)! };
  };
  if (events === 0) throw new Error('realtime bench: the write-path subscriber received no event');
  return { backend, rounds: out, webhookCost: cost('webhook'), filteredCost: cost('filtered'), realtimeCost: cost('realtime') };
}

export async function realtimeBench(): Promise<RealtimeBench> {
  const limits = fileLimits();
  const need = Math.max(...SUBSCRIBERS) + 1000;
  if (limits.hard < need) throw new Error(`realtime bench: ${Math.max(...SUBSCRIBERS)} subscribers need ${need} open files; the hard limit is ${limits.hard}`);
  const result: RealtimeBench = {
    at: new Date().toISOString(),
    machine: { cores: os.cpus().length, loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100), node: process.version, fileLimit: limits },
    fanout: [],
    deliveries: [],
    writePath: [],
  };
  for (const backend of BACKENDS) {
    const server = await startServer(backend);
    const receiver = await startReceiver();
    try {
      const api = `${server.url}/api/v1`;
      const su = await postJson(`${api}/auth/signup`, { name: 'Bench', email: 'bench@example.com', password: 'bench password 1' });
      const auth = { authorization: `Bearer ${su.data.accessToken as string}` };
      const keys = {
        editor: (await postJson(`${api}/api-keys`, { name: 'bench editor', role: 'editor' }, auth)).data.key as string,
        admin: (await postJson(`${api}/api-keys`, { name: 'bench admin', role: 'admin' }, auth)).data.key as string,
      };
      if (PARTS.has('fanout')) for (const n of SUBSCRIBERS) result.fanout.push(await fanout(backend, server, keys.editor, n));
      if (PARTS.has('deliveries')) for (const subs of [1, 50]) result.deliveries.push(await deliveries(backend, server, keys, receiver, subs));
      if (PARTS.has('write-path')) result.writePath.push(await writePath(backend, server, keys, receiver));
    } finally {
      receiver.kill();
      await server.stop();
    }
  }
  return result;
}

const pctLess = (x: LoadResult, base: LoadResult) => Math.round((1 - x.rps / base.rps) * 1000) / 10;
const range = (c: { median: number; min: number; max: number }) => `**${c.median}%** (${c.min}…${c.max})`;
const share = (c: CpuShare) => `${c.server} / ${c.loadGenerator} / ${c.database ?? '—'} / ${c.bench} / ${c.others}`;

export function printRealtime(r: RealtimeBench): void {
  console.log(
    `\nRealtime fan-out: one record created → every WebSocket subscriber of its model (${CHANGES} changes one at a time; latency from the moment the write was sent, so it includes the write; the server sends the event before it answers the write, hence the negative figures from the response)\n`,
  );
  console.log(
    '| database | subscribers | connected | connect/s | server RSS per conn | heap per conn | p50 | p99 | max | last subscriber p50 / max | write p50 (nobody subscribed) | from the response p50 / p99 | received | CPU % fan-out: server / load gen / PG / bench / others |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const f of r.fanout)
    console.log(
      `| ${f.backend} | ${f.subscribers} | ${f.connected}${f.connectFailed ? ` (${f.connectFailed} failed)` : ''} | ${f.connectPerS} | ${f.rssPerConnKiB} KiB | ${f.heapPerConnKiB ?? '—'} KiB | ${f.fromRequest.p50} ms | ${f.fromRequest.p99} ms | ${f.fromRequest.max} ms | ${f.lastSubscriber.p50} / ${f.lastSubscriber.max} ms | ${f.writeMs.p50} (${f.writeAloneMs}) ms | ${f.fromResponse.p50} / ${f.fromResponse.p99} ms | ${f.received}/${f.expected} | ${share(f.cpuFanout)} |`,
    );
  for (const f of r.fanout) {
    console.log(
      `- ${f.backend}, ${f.subscribers}: server RSS ${f.rssBeforeMiB} → ${f.rssAfterMiB} MiB; connect phase ${f.cpuConnect.wallS} s, CPU % ${share(f.cpuConnect)}; fan-out phase ${f.cpuFanout.wallS} s; earliest event ${f.fromResponse.min} ms after the response${f.dropped ? `; ${f.dropped} connections dropped by the server` : ''}${f.firstConnectError ? `; first connect error: ${f.firstConnectError}` : ''}${f.serverErrors.length ? `; server errors: ${f.serverErrors.join(' | ')}` : ''}`,
    );
  }
  console.log('\nOutbound webhook deliveries (record.created, bulk writes of 1,000, loopback receiver answering 204 at once)\n');
  console.log(
    '| database | subscriptions | records | deliveries | overall /s | steady (10–90%) /s | writes took | last arrival after writes | arrivals p50 / p90 / p99 / last, from the first write | repeats | CPU %: server / receiver / PG / bench / others |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const d of r.deliveries)
    console.log(
      `| ${d.backend} | ${d.subscriptions} | ${d.records} | ${d.arrived}/${d.expected}${d.unsigned ? ` (${d.unsigned} unsigned)` : ''} | ${d.overallPerS} | ${d.steadyPerS} | ${d.writeMs} ms | ${d.lastArrivalAfterWritesMs} ms | ${d.arrivalMs.p50} / ${d.arrivalMs.p90} / ${d.arrivalMs.p99} / ${d.arrivalMs.last} ms | ${d.repeats} | ${share(d.cpu)} |`,
    );
  console.log('\nWrite path: single inserts/s (10 connections), interleaved rounds; cost = % fewer inserts/s than the same round with no subscription\n');
  console.log(
    '| database | round | no subscription | one webhook subscription (drain after) | one webhook subscription, filter matching nothing | one realtime subscriber | webhook cost | filtered webhook cost | realtime cost |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const w of r.writePath) {
    w.rounds.forEach((x, i) =>
      console.log(
        `| ${w.backend} | ${i + 1} | ${x.plain.rps} | ${x.webhook.rps} (${x.webhookDrainMs} ms) | ${x.filtered.rps} | ${x.realtime.rps} | ${pctLess(x.webhook, x.plain)}% | ${pctLess(x.filtered, x.plain)}% | ${pctLess(x.realtime, x.plain)}% |`,
      ),
    );
    console.log(`| ${w.backend} | **median** | | | | | ${range(w.webhookCost)} | ${range(w.filteredCost)} | ${range(w.realtimeCost)} |`);
  }
  const m = r.machine;
  console.log(
    `\nMachine: ${m.cores} cores, load average ${m.loadavg.join(' ')} at the start, ${m.node}, open files ${m.fileLimit.soft}/${m.fileLimit.hard}; processes not pinned (the scheduler shares both cores); CPU % is of one core over the phase; "others" = the machine's busy time not used by these processes (other work on the VM, and the kernel's loopback network interrupts).\n`,
  );
}
