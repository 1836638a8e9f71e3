/**
 * Flow engine throughput with executions persisted: webhook → set → respond, and a chain of 10
 * transforms, at concurrency 1, 10 and 50, on PostgreSQL and on the embedded database. Every
 * request is one durable execution (an executions row and a node_runs row per node).
 *   npm run bench -- --flows-only [--quick]
 */
import path from 'node:path';
import { type Backend, type LoadResult, backendEnv, freePort, load, memKiB, postJson, quick, root, spawnServer } from './lib.js';

async function envFor(backend: Backend): Promise<Record<string, string>> {
  const env = await backendEnv(backend, 'flows');
  return {
    ...env,
    INFINITY_LOG_LEVEL: 'warn',
    INFINITY_WORKER_CONCURRENCY: '100',
    INFINITY_PUBLIC_RATE_LIMIT: '1000000',
    ...(backend === 'postgres' ? { DATABASE_POOL_SIZE: '20' } : {}),
  };
}

const node = (id: string, type: string, params: Record<string, unknown>) => ({ id, type, name: id, position: { x: 0, y: 0 }, params });
const edge = (a: string, b: string) => ({ id: `${a}-${b}`, source: a, target: b });

export interface FlowBenchRow {
  backend: Backend;
  flow: string;
  concurrency: number;
  result: LoadResult;
}

const memMiB = (pid: number, key: 'VmRSS' | 'VmHWM' = 'VmRSS') => Math.round(memKiB(pid, key) / 1024);

export interface LoopBench {
  items: number;
  ms: number;
  /** RSS just before the run, and the highest RSS sampled (every 20 ms) while it ran. */
  rssBeforeMiB: number;
  rssPeakMiB: number;
  /** The server process's high-water mark over its whole life (start-up included), read after the loop. */
  hwmMiB: number;
}

export async function flowsBench(): Promise<{ rows: FlowBenchRow[]; perNodeMs: Record<Backend, number>; loop: Partial<Record<Backend, LoopBench>> }> {
  const rows: FlowBenchRow[] = [];
  const perNodeMs = {} as Record<Backend, number>;
  const loop: Partial<Record<Backend, LoopBench>> = {};
  for (const backend of ['postgres', 'embedded'] as Backend[]) {
    const port = await freePort();
    process.stderr.write(`flows bench: starting infinity (${backend})…\n`);
    const server = await spawnServer(
      [path.join(root, 'apps/server/dist/cli.js'), 'start', '--port', String(port)],
      await envFor(backend),
      port,
      '/health/ready',
    );
    try {
      const api = `${server.url}/api/v1`;
      const su = await postJson(`${api}/auth/signup`, { name: 'Bench', email: 'bench@example.com', password: 'bench password 1' });
      const auth = { authorization: `Bearer ${su.data.accessToken as string}` };
      const make = async (name: string, nodes: ReturnType<typeof node>[]) => {
        const edges = nodes.slice(1).map((n, i) => edge(nodes[i]!.id, n.id));
        const id = (await postJson(`${api}/flows`, { name, nodes, edges }, auth)).data.id as string;
        await fetch(`${api}/flows/${id}`, {
          method: 'PATCH',
          headers: { 'content-type': 'application/json', ...auth },
          body: JSON.stringify({ active: true }),
        });
        return `${api}/hooks/${id}/in`;
      };
      const hook = node('hook', 'trigger.webhook', { path: 'in', respond: 'whenFinished' });
      const three = await make('three nodes', [
        hook,
        node('set', 'core.set', { values: { seen: '{{ $input.body.n }}' } }),
        node('reply', 'core.respond', { body: '{{ $input }}' }),
      ]);
      const chain = await make('ten transforms', [
        hook,
        ...Array.from({ length: 10 }, (_, i) => node(`t${i}`, 'core.transform', { expression: i === 0 ? '{ "n": $input.body.n }' : '{ "n": $input.n + 1 }' })),
        node('reply', 'core.respond', { body: '{{ $input }}' }),
      ]);
      // First, on a fresh process: a loop over 100,000 items (body: one transform per item), one execution.
      const items = 100_000;
      const loopFlow = (
        await postJson(
          `${api}/flows`,
          {
            name: 'loop',
            nodes: [
              node('start', 'trigger.manual', {}),
              node('each', 'core.loop', { items: `{{ [1..${items}] }}`, concurrency: 10, maxItems: items }),
              node('double', 'core.transform', { expression: '$input * 2' }),
              node('count', 'core.transform', { expression: '{ "count": $count($input), "last": $input[-1] }' }),
            ],
            edges: [
              edge('start', 'each'),
              { id: 'i', source: 'each', sourceHandle: 'item', target: 'double' },
              { id: 'r', source: 'double', target: 'each', targetHandle: 'return' },
              { id: 'd', source: 'each', sourceHandle: 'done', target: 'count' },
            ],
          },
          auth,
        )
      ).data.id as string;
      const before = memMiB(server.pid);
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, memMiB(server.pid))), 20);
      const t = performance.now();
      const ex = (await postJson(`${api}/flows/${loopFlow}/run?wait=true`, { input: {} }, auth)).data as { status: string; output: { count: number } };
      clearInterval(sampler);
      peak = Math.max(peak, memMiB(server.pid));
      if (ex.status !== 'succeeded' || ex.output.count !== items) throw new Error(`loop bench: ${JSON.stringify(ex).slice(0, 300)}`);
      loop[backend] = { items, ms: Math.round(performance.now() - t), rssBeforeMiB: before, rssPeakMiB: peak, hwmMiB: memMiB(server.pid, 'VmHWM') };
      const body = () => JSON.stringify({ n: 1 });
      await load({ url: three, body, duration: 2, connections: 10 }); // warm-up
      for (const concurrency of [1, 10, 50]) {
        for (const [flow, url] of [
          ['webhook → set → respond', three],
          ['webhook → 10 transforms → respond', chain],
        ] as const) {
          rows.push({ backend, flow, concurrency, result: await load({ url, body, duration: quick ? 3 : 6, connections: concurrency }) });
        }
      }
      const at1 = (f: string) => rows.find((r) => r.backend === backend && r.concurrency === 1 && r.flow.includes(f))!.result;
      // Latency at concurrency 1 is request time; 9 more nodes (10 transforms vs 1 set) make the difference.
      perNodeMs[backend] = Math.round(((1000 / at1('10 transforms').rps - 1000 / at1('set').rps) / 9) * 1000) / 1000;
    } finally {
      server.kill();
    }
  }
  return { rows, perNodeMs, loop };
}

export function printFlows(r: Awaited<ReturnType<typeof flowsBench>>): void {
  console.log('\nFlow executions (persisted: one executions row + one node_runs row per node), webhook answering when finished\n');
  console.log('| database | flow | concurrency | executions/s | p50 ms | p99 ms |');
  console.log('|---|---|---:|---:|---:|---:|');
  for (const x of r.rows) console.log(`| ${x.backend} | ${x.flow} | ${x.concurrency} | ${x.result.rps} | ${x.result.p50} | ${x.result.p99} |`);
  for (const [b, l] of Object.entries(r.loop))
    console.log(
      `\nLoop over ${l.items} items (${b}): ${l.ms} ms; server RSS ${l.rssBeforeMiB} MiB before, ${l.rssPeakMiB} MiB at the highest while it ran; ${l.hwmMiB} MiB high-water mark of the process since it started (VmHWM)`,
    );
  console.log(
    `\nPer-node overhead (concurrency 1, from the 10-transform chain vs the 3-node flow): PostgreSQL ${r.perNodeMs.postgres} ms, embedded ${r.perNodeMs.embedded} ms`,
  );
  // The difference above is a few tenths of a millisecond inside request times of several: below
  // this machine's run-to-run noise it can even come out negative. The loop is one execution whose
  // body node runs once per item, so its time per item bounds the engine's cost of running a node.
  const perItem = Object.entries(r.loop).map(([b, l]) => `${b} ${Math.round((l.ms / l.items) * 1000 * 10) / 10} µs`);
  console.log(`Per-node cost inside the loop (loop time / items, one transform per item): ${perItem.join(', ')}`);
}
