#!/usr/bin/env node
import net from 'node:net';
import { type Kysely, sql } from 'kysely';
import { parseArgs } from 'node:util';
import { ConfigError, type ConfigOverrides, loadConfig } from './config/index.js';
import { type DatabaseInfo, migrationStatus } from './platform/db/index.js';
import { createVaultContext, Keyring } from './modules/vault/index.js';
import cliProgress from 'cli-progress';
import path from 'node:path';
import { backupInstance, restoreInstance, rotateMasterKey, verifyAudit, type AdminContext } from './modules/system/index.js';
import { AppError } from './platform/errors.js';
import type { VerifyReport } from './modules/audit/index.js';
import { start } from './main.js';
import { runImport } from './import-command.js';
import { runMcpBridge } from './mcp-bridge.js';
import { openRuntime, readLiveServerFile, type Runtime } from './runtime.js';
import { VERSION } from './version.js';

const HELP = `infinity ${VERSION} — data and automation backbone

Usage: infinity <command> [options]

Commands:
  start [--port N] [--data DIR] [--role all|api|worker|scheduler]   run the server
  migrate [--data DIR]                        apply database migrations and exit
  doctor [--data DIR]                         check configuration, database, pgvector, Redis
  keys rotate [--data DIR]                    new master key; re-wrap every data key (no downtime)
  audit verify [--org ID] [--data DIR]        recompute the audit hash chains; exit 1 if altered
  backup --out FILE [--org ID] [--data DIR]   a consistent, checksummed archive of the instance (or one organization)
  restore FILE [--data DIR]                   verify an archive, then restore it into an empty instance (or a missing organization)
  import FILE --model NAME [--mode insert|upsert] [--key FIELD] [--skip-invalid] [--batch N]
         [--url URL] [--api-key KEY]          send a CSV or JSON file to a running server, with progress
  mcp --url URL [--api-key KEY]               bridge a server's MCP endpoint to stdio (Claude Desktop and other desktop clients)

Every command uses the embedded database in --data (default ./.infinity) unless DATABASE_URL is set.
Environment variables: see docs/env.md.`;

function fail(message: string, code = 1): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

interface Parsed {
  command: string[];
  overrides: ConfigOverrides;
  org: string | undefined;
  flags: Record<string, string | boolean | undefined>;
}

function parse(argv: string[]): Parsed {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      port: { type: 'string', short: 'p' },
      data: { type: 'string', short: 'd' },
      role: { type: 'string' },
      org: { type: 'string' },
      model: { type: 'string' },
      mode: { type: 'string' },
      key: { type: 'string' },
      'skip-invalid': { type: 'boolean' },
      batch: { type: 'string' },
      url: { type: 'string' },
      'api-key': { type: 'string' },
      out: { type: 'string', short: 'o' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    process.exit(0);
  }
  if (values.help || positionals.length === 0) {
    process.stdout.write(`${HELP}\n`);
    process.exit(0);
  }
  const overrides: ConfigOverrides = {};
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port: "${values.port}" is not a port number (0–65535).`, 2);
    overrides.port = port;
  }
  if (values.data !== undefined) overrides.dataDir = values.data;
  if (values.role !== undefined) {
    if (!['all', 'api', 'worker', 'scheduler'].includes(values.role)) fail(`--role: "${values.role}" is not one of all, api, worker, scheduler.`, 2);
    overrides.role = values.role as ConfigOverrides['role'];
  }
  return { command: positionals, overrides, org: values.org, flags: values };
}

/** While an embedded server runs, it holds the database: ask it to do the work over loopback. */
async function viaRunningServer<T>(overrides: ConfigOverrides, route: string, body: unknown): Promise<T | undefined> {
  const config = loadConfig(process.env, overrides);
  if (config.database.kind !== 'pglite') return undefined;
  const live = readLiveServerFile(config.dataDir);
  if (!live) return undefined;
  process.stderr.write(`The server (pid ${live.pid}) holds the embedded database; asking it to do this.\n`);
  const res = await fetch(`${live.url}${route}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${live.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
  const json = (await res.json()) as { data?: T; error?: { message: string } };
  if (!res.ok || json.data === undefined) fail(`The server refused: ${json.error?.message ?? res.status}`);
  return json.data;
}

async function withRuntime<T>(overrides: ConfigOverrides, fn: (rt: Runtime) => Promise<T>, migrate = true): Promise<T> {
  const rt = await openRuntime(overrides, { migrate, logLevel: 'warn' });
  try {
    return await fn(rt);
  } finally {
    await rt.db.close();
  }
}

function adminContext(rt: Runtime): AdminContext {
  return { config: rt.config, db: rt.db.kysely, vault: createVaultContext(rt.db.kysely, new Keyring(rt.keys.all)), database: rt.db };
}

/** A progress bar on stderr for long work (rows done of total). */
async function withBar<T>(label: string, work: (onProgress: (done: number, total: number) => void) => Promise<T>): Promise<T> {
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: ` ${label} [{bar}] {percentage}% | {value}/{total} rows | {eta_formatted} left`,
      noTTYOutput: true,
      notTTYSchedule: 2000,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  try {
    return await work((done, total) => {
      if (!started) bar.start(total, 0);
      started = true;
      bar.update(done);
    });
  } finally {
    bar.stop();
  }
}

function printVerify(report: VerifyReport): never {
  if (report.ok) {
    process.stdout.write(`Audit log intact: ${report.entries} entries in ${report.chains} chains verified.\n`);
    process.exit(0);
  }
  process.stdout.write(`AUDIT LOG ALTERED: ${report.problems.length} problem(s) in ${report.chains} chains (${report.entries} entries read):\n`);
  for (const p of report.problems) process.stdout.write(`  org ${p.orgId} entry ${p.seq}: ${p.problem}\n`);
  process.exit(1);
}

function redisPing(url: string): Promise<string> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const socket = net.connect({ host: u.hostname, port: Number(u.port || 6379) });
    const done = (s: string) => {
      socket.destroy();
      resolve(s);
    };
    socket.setTimeout(2000, () => done('no answer within 2 s'));
    socket.on('error', (err) => done(`unreachable (${err.message})`));
    socket.on('connect', () => socket.write(u.password ? `AUTH ${decodeURIComponent(u.password)}\r\nPING\r\n` : 'PING\r\n'));
    socket.on('data', (d) => done(d.toString().includes('+PONG') ? 'ok' : `unexpected answer ${JSON.stringify(d.toString().slice(0, 40))}`));
  });
}

/** Embedded: whether pgvector's inner product runs on WebAssembly SIMD (platform/db/pgvector-simd.ts). */
function simdNote(simd: DatabaseInfo['vectorSimd']): string {
  if (!simd) return '';
  return simd.on ? '; SIMD inner product' : `; stock scalar inner product: ${simd.reason ?? 'unknown build'}`;
}

/**
 * Whether the HNSW indexes fit the buffer pool: a search walks thousands of index pages (one per
 * 1,536-dimension vector), read through the file system when they do not fit (2–3× slower).
 */
async function vectorIndexFit(db: Kysely<object>, embedded: boolean): Promise<[string, string, boolean]> {
  const r = await sql<{ index: string; pool: string }>`
    select coalesce(sum(pg_relation_size(i.indexrelid)), 0)::bigint::text as index,
           (select setting::bigint * 8192 from pg_settings where name = 'shared_buffers')::text as pool
    from pg_index i join pg_class c on c.oid = i.indexrelid join pg_am a on a.oid = c.relam where a.amname = 'hnsw'`.execute(db);
  const mb = (b: string) => Math.ceil(Number(b) / 1048576);
  const { index = '0', pool = '0' } = r.rows[0] ?? {};
  if (Number(index) <= Number(pool)) return ['vector indexes', `${mb(index)} MB, within the ${mb(pool)} MB buffer pool`, true];
  const want = 2 ** Math.ceil(Math.log2(mb(index) * 1.25));
  return [
    'vector indexes',
    `${mb(index)} MB, more than the ${mb(pool)} MB buffer pool: similarity search reads from disk; set ${embedded ? 'INFINITY_PGLITE_SHARED_BUFFERS' : 'shared_buffers (postgresql.conf)'} to ${want}MB or more`,
    false,
  ];
}

async function doctor(overrides: ConfigOverrides): Promise<void> {
  const lines: [string, string, boolean][] = [];
  const config = loadConfig(process.env, overrides);
  lines.push(['configuration', 'valid', true]);
  lines.push(['role', config.role, true]);
  const live = config.database.kind === 'pglite' ? readLiveServerFile(config.dataDir) : undefined;
  if (live) {
    const res = await fetch(`${live.url}/health/ready`)
      .then((r) => r.json() as Promise<{ status: string; database?: { kind: string; vector: boolean; vectorMode?: string } }>)
      .catch(() => undefined);
    lines.push(['database', `embedded, held by the running server (pid ${live.pid}): ${res?.status ?? 'no answer'}`, res?.status === 'ok']);
    lines.push(['pgvector', res?.database?.vector ? `available: ${res.database.vectorMode ?? 'HNSW'}` : 'unknown', Boolean(res?.database?.vector)]);
  } else {
    await withRuntime(
      overrides,
      async (rt) => {
        const info = rt.db.info;
        lines.push(['database', `${info.kind === 'pglite' ? 'embedded PGlite' : 'PostgreSQL'} ${info.serverVersion} at ${info.location}`, true]);
        lines.push([
          'pgvector',
          info.vector
            ? `available (HNSW similarity search${simdNote(info.vectorSimd)})`
            : 'NOT installed: vectors stored as real[] with exact search (slower on large models)',
          info.vector,
        ]);
        if (info.vector) lines.push(await vectorIndexFit(rt.db.kysely, info.kind === 'pglite'));
        const m = await migrationStatus(rt.db.kysely);
        lines.push([
          'migrations',
          m.pending.length ? `${m.pending.length} pending: run \`infinity migrate\` (start does it too)` : `${m.applied.length} applied, none pending`,
          m.pending.length === 0,
        ]);
        lines.push(['keys', `master key ${rt.keys.current.id} (${rt.keys.all.length} in ring), JWT key set`, true]);
      },
      false,
    );
  }
  lines.push([
    'redis',
    config.redisUrl ? await redisPing(config.redisUrl) : 'not configured: each process counts its own rate limits (fine for one instance)',
    true,
  ]);
  const width = Math.max(...lines.map(([k]) => k.length));
  for (const [k, v, ok] of lines) process.stdout.write(`${ok ? '✓' : '!'} ${k.padEnd(width)}  ${v}\n`);
  process.exit(lines.every(([, , ok]) => ok) || lines.find(([k]) => k === 'database')?.[2] ? 0 : 1);
}

async function main(argv: string[]): Promise<void> {
  const { command, overrides, org, flags } = parse(argv);
  const [cmd, sub] = command;
  switch (cmd ?? '') {
    case 'start':
      return start(overrides);
    case 'migrate': {
      const applied = await withRuntime(overrides, async (rt) => migrationStatus(rt.db.kysely));
      process.stdout.write(`Database is up to date (${applied.applied.length} migrations applied).\n`);
      return;
    }
    case 'doctor':
      return doctor(overrides);
    case 'keys': {
      if (sub !== 'rotate') fail('Usage: infinity keys rotate [--data DIR]', 2);
      const forwarded = await viaRunningServer<{ masterKeyId: string; rewrapped: number }>(overrides, '/internal/admin/keys-rotate', {});
      const report =
        forwarded ?? (await withRuntime(overrides, (rt) => rotateMasterKey(adminContext(rt), (n) => process.stderr.write(`\rre-wrapped ${n} data keys`))));
      process.stdout.write(`\nMaster key is now ${report.masterKeyId}; ${report.rewrapped} data keys re-wrapped.\n`);
      return;
    }
    case 'audit': {
      if (sub !== 'verify') fail('Usage: infinity audit verify [--org ID] [--data DIR]', 2);
      const forwarded = await viaRunningServer<VerifyReport>(overrides, '/internal/admin/audit-verify', org ? { orgId: org } : {});
      return printVerify(forwarded ?? (await withRuntime(overrides, (rt) => verifyAudit(adminContext(rt), org))));
    }
    case 'backup': {
      const out = flags.out;
      if (typeof out !== 'string' || sub) fail('Usage: infinity backup --out FILE [--org ID] [--data DIR]', 2);
      const file = path.resolve(out);
      const forwarded = await viaRunningServer<{ rows: number; tables: number; sha256: string }>(overrides, '/internal/admin/backup', {
        out: file,
        ...(org ? { orgId: org } : {}),
      });
      const report =
        forwarded ??
        (await withRuntime(overrides, (rt) => withBar('backing up', (onProgress) => backupInstance(adminContext(rt), { out: file, orgId: org, onProgress }))));
      process.stdout.write(`Backup written to ${file}: ${report.rows} rows in ${report.tables} tables, sha256 ${report.sha256}.\n`);
      return;
    }
    case 'restore': {
      if (!sub) fail('Usage: infinity restore FILE [--data DIR]', 2);
      const config = loadConfig(process.env, overrides);
      if (config.database.kind === 'pglite' && readLiveServerFile(config.dataDir))
        fail('A server is running on this data folder: stop it, then restore (a restore needs an empty instance).');
      const report = await withRuntime(overrides, (rt) =>
        withBar('restoring', (onProgress) => restoreInstance(adminContext(rt), path.resolve(sub), onProgress)),
      );
      process.stdout.write(
        `Restored ${report.rows} rows (${report.organizations} organizations) from a ${report.source.kind} backup${report.scope.orgId ? ` of organization ${report.scope.orgId}` : ''}.\n`,
      );
      return;
    }
    case 'import': {
      const config = loadConfig(process.env, overrides);
      const file = sub;
      const model = flags.model;
      const apiKey = (flags['api-key'] as string | undefined) ?? config.cli.apiKey;
      if (!file || typeof model !== 'string') fail('Usage: infinity import FILE --model NAME [--api-key KEY | INFINITY_API_KEY] [--url URL]', 2);
      if (!apiKey) fail('infinity import talks to a running server: give --api-key or set INFINITY_API_KEY (an editor key).', 2);
      const mode = (flags.mode as string | undefined) ?? 'insert';
      if (mode !== 'insert' && mode !== 'upsert') fail('--mode must be insert or upsert', 2);
      const batch = Number(flags.batch ?? 1000);
      if (!Number.isInteger(batch) || batch < 1 || batch > 10_000) fail('--batch must be a whole number from 1 to 10000', 2);
      const report = await runImport({
        file,
        model,
        url: (flags.url as string | undefined) ?? config.cli.url,
        apiKey,
        mode,
        key: (flags.key as string | undefined) ?? 'id',
        skipInvalid: Boolean(flags['skip-invalid']),
        batch,
      });
      process.stdout.write(`Imported ${report.inserted} new and ${report.updated} updated of ${report.total} rows; ${report.rejected.length} rejected.\n`);
      for (const r of report.rejected.slice(0, 20)) process.stdout.write(`  row ${r.row}: ${r.errors.map((e) => `${e.field} ${e.message}`).join('; ')}\n`);
      if (report.rejected.length > 20) process.stdout.write(`  … and ${report.rejected.length - 20} more\n`);
      process.exit(report.rejected.length ? 1 : 0);
      break;
    }
    case 'mcp': {
      // The key may come from INFINITY_API_KEY, so that it need not appear in a process list.
      const config = loadConfig(process.env, overrides);
      const apiKey = (flags['api-key'] as string | undefined) ?? config.cli.apiKey;
      if (sub) fail('Usage: infinity mcp --url URL [--api-key KEY | INFINITY_API_KEY]', 2);
      if (!apiKey) fail('infinity mcp needs an API key: give --api-key or set INFINITY_API_KEY.', 2);
      return runMcpBridge({ url: (flags.url as string | undefined) ?? config.cli.url, apiKey });
    }
    default:
      fail(`Unknown command "${command.join(' ')}".\n\n${HELP}`, 2);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ConfigError) fail(err.message, 78);
  if (err instanceof AppError) fail(`infinity: ${err.message} (${err.code})`);
  if (err instanceof TypeError && (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) fail(`${err.message}\n\n${HELP}`, 2);
  fail(`infinity: ${err instanceof Error ? err.message : String(err)}`);
});
