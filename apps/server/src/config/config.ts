import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Cron } from 'croner';
import { z } from 'zod';
import { type PlanLimits, type PlanName, parsePlanLimits, parseRouteLimits } from './plans.js';

/**
 * Every environment variable Infinity reads, with its default. This file is the only reader
 * of process.env (docs/env.md documents each entry; a test keeps the two in step).
 */
const csv = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
);
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const envSchema = z.object({
  INFINITY_CONFIG: z.string().optional().describe('Path of an optional JSON file whose keys are these variable names; the environment wins over it.'),
  INFINITY_PORT: int(0, 65535).default(8080).describe('HTTP port.'),
  INFINITY_HOST: z.string().min(1).default('127.0.0.1').describe('Interface to listen on; 0.0.0.0 in containers.'),
  INFINITY_DATA_DIR: z.string().min(1).default('./.infinity').describe('Folder of the embedded database and of generated keys.'),
  INFINITY_ROLE: z.enum(['all', 'api', 'worker', 'scheduler']).default('all').describe('Which parts this process runs.'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
    .optional()
    .describe('PostgreSQL connection string; unset = embedded PGlite in INFINITY_DATA_DIR.'),
  DATABASE_POOL_SIZE: int(1, 200).default(10).describe('Connections per process (PostgreSQL only).'),
  INFINITY_PGLITE_SHARED_BUFFERS: z
    .string()
    .regex(/^\d+(kB|MB|GB)$/, 'must be a size such as 16MB')
    .default('16MB')
    .describe(
      'Buffer pool of the embedded database. Its files also sit in the OS page cache; 64MB adds ~80 MiB of RSS. Vector search wants its index in the pool: ~80 MB per 10,000 × 1,536-dimension vectors (`infinity doctor` compares).',
    ),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .optional()
    .describe('Optional Redis for cross-instance rate limits and event fan-out (instead of PostgreSQL LISTEN/NOTIFY).'),
  INFINITY_MASTER_KEY: z.string().optional().describe('Base64 of 32 random bytes: wraps every organization data key. Required with DATABASE_URL.'),
  INFINITY_MASTER_KEY_FILE: z.string().optional().describe('File holding INFINITY_MASTER_KEY.'),
  INFINITY_MASTER_KEY_PREVIOUS: csv.optional().describe('Comma list of retired master keys still accepted for unwrapping during a rotation.'),
  INFINITY_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional().describe('HMAC key for access tokens. Required with DATABASE_URL.'),
  INFINITY_JWT_SECRET_FILE: z.string().optional().describe('File holding INFINITY_JWT_SECRET.'),
  INFINITY_PUBLIC_URL: z.url().optional().describe('Public base URL, used in invitation links and cookies. Default http://localhost:PORT.'),
  INFINITY_CORS_ORIGINS: csv.default([]).describe('Comma list of origins allowed by CORS (the UI served by the server needs none).'),
  INFINITY_TRUST_PROXY: bool.default(false).describe('Trust X-Forwarded-* headers (behind a reverse proxy).'),
  INFINITY_BODY_LIMIT: int(1024, 512 * 1024 * 1024)
    .default(1024 * 1024)
    .describe('Largest accepted request body in bytes.'),
  INFINITY_IMPORT_LIMIT: int(1024, 2 * 1024 * 1024 * 1024)
    .default(64 * 1024 * 1024)
    .describe('Largest accepted import body (CSV or JSON) in bytes.'),
  INFINITY_HTTP_HEADERS_TIMEOUT: int(1000, 600_000)
    .default(20_000)
    .describe('Milliseconds a client has to send the request line and headers; then 408 and the connection is closed.'),
  INFINITY_HTTP_REQUEST_TIMEOUT: int(1000, 3_600_000)
    .default(60_000)
    .describe(
      'Milliseconds a client has to send the whole request, body included (a slow upload needs more); then 408. Answers (`?wait=true`, streams) are not limited by it.',
    ),
  INFINITY_HTTP_IDLE_TIMEOUT: int(1000, 600_000)
    .default(72_000)
    .describe("Milliseconds an idle keep-alive connection stays open between requests (above a load balancer's own idle timeout)."),
  INFINITY_HTTP_MAX_HEADER_SIZE: int(16 * 1024, 1024 * 1024)
    .default(64 * 1024)
    .describe('Largest request line plus headers in bytes (long filter URLs need room); larger gets a 431.'),
  INFINITY_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Log level.'),
  INFINITY_ACCESS_TOKEN_TTL: int(60, 86400).default(900).describe('Access token lifetime, seconds.'),
  INFINITY_REFRESH_TOKEN_TTL: int(300, 365 * 86400)
    .default(30 * 86400)
    .describe('Refresh token lifetime, seconds.'),
  INFINITY_INVITATION_TTL: int(300, 90 * 86400)
    .default(7 * 86400)
    .describe('Invitation lifetime, seconds.'),
  INFINITY_LOGIN_MAX_FAILURES: int(1, 1000).default(5).describe('Failed logins per email in the window before login is throttled.'),
  INFINITY_LOGIN_MAX_FAILURES_PER_IP: int(1, 100000).default(30).describe('Failed logins per IP in the window before login is throttled.'),
  INFINITY_LOGIN_WINDOW: int(10, 86400).default(900).describe('Login throttle window, seconds.'),
  INFINITY_AUTH_CACHE_TTL_MS: int(0, 86_400_000)
    .default(5000)
    .describe(
      'Milliseconds a process caches an API key or a membership role. Revocations and member changes reach every process as events at once; the TTL only bounds what no event reports (an organization deleted on another process).',
    ),
  INFINITY_API_KEY: z.string().optional().describe('API key the CLI uses to talk to a running server (infinity import); --api-key wins.'),
  INFINITY_URL: z.url().optional().describe('Server the CLI talks to (infinity import); default INFINITY_PUBLIC_URL.'),
  INFINITY_SHUTDOWN_GRACE: int(0, 600).default(20).describe('Seconds to finish in-flight work on SIGTERM before exiting.'),
  INFINITY_HTTP_ALLOW: csv
    .default([])
    .describe(
      'Comma list of CIDR ranges and host names that outbound requests (HTTP node, AI base URLs) may reach although private or loopback, e.g. 127.0.0.1/32,ollama.lan. Empty = public addresses only.',
    ),
  INFINITY_WORKER_CONCURRENCY: int(1, 1000).default(20).describe('Executions one worker process runs at once.'),
  INFINITY_EXECUTION_LEASE: int(1, 3600)
    .default(30)
    .describe('Seconds a worker holds an execution without renewing; after that another worker takes it over (crash recovery).'),
  INFINITY_EXECUTION_MAX_RECLAIMS: int(0, 1000)
    .default(3)
    .describe(
      'Times a running execution is taken over after its worker stopped mid-run (crash, kill, out of memory) before it is failed with EXECUTION_CRASHED_TOO_OFTEN instead of being claimed again.',
    ),
  INFINITY_FAULT: z
    .string()
    .regex(/^(crash-after-item|crash-before-checkpoint):[^:]+:[1-9][0-9]*$/, 'crash-after-item:<loopNodeId>:<n> or crash-before-checkpoint:<loopNodeId>:<n>')
    .optional()
    .describe(
      'For crash-recovery tests only: kill the process (as kill -9 would) right after the n-th item of a loop node was checkpointed (crash-after-item:<loopNodeId>:<n>), or right before (crash-before-checkpoint:…). Never set it in production.',
    ),
  INFINITY_QUEUE_POLL: int(50, 60000).default(1000).describe('Milliseconds between queue polls (notifications wake workers sooner).'),
  INFINITY_OUTBOX_POLL: int(50, 600_000)
    .default(5000)
    .describe(
      'Milliseconds between scans of the event outbox for rows whose wake-up was lost, whose retry is due or whose worker died (commits wake the drain at once).',
    ),
  INFINITY_OUTBOX_MAX_ATTEMPTS: int(1, 100)
    .default(10)
    .describe('Tries of an outbox event (backing off from 1 s, doubling to 10 min) before it is parked as a dead letter in event_outbox and logged.'),
  INFINITY_REALTIME_HEARTBEAT: int(10, 600_000)
    .default(30_000)
    .describe('Milliseconds between realtime heartbeats: a WebSocket ping (a peer that leaves two unanswered is closed) and an SSE comment line.'),
  INFINITY_REALTIME_MAX_CONNECTIONS: int(0, 1_000_000)
    .default(20_000)
    .describe('Realtime connections (WebSocket and SSE together) one process accepts; more are refused with REALTIME_CONNECTION_LIMIT.'),
  INFINITY_REALTIME_SEND_BUFFER: int(0, 256 * 1024 * 1024)
    .default(1024 * 1024)
    .describe('Bytes a realtime connection may have waiting to be sent; a client that lets more pile up is dropped with SLOW_CONSUMER.'),
  INFINITY_REALTIME_REPLAY_WINDOW: int(1, 86_400)
    .default(300)
    .describe('Seconds of events kept for SSE reconnects (Last-Event-ID; at most 1,000 events are replayed); older gaps get REPLAY_UNAVAILABLE.'),
  INFINITY_REALTIME_AUTH_TIMEOUT: int(10, 600_000)
    .default(5000)
    .describe('Milliseconds a WebSocket without a credential on the upgrade has to send its {"type":"auth"} message.'),
  INFINITY_EXECUTION_RETENTION_DAYS: int(1, 3650).default(30).describe('Finished executions older than this are pruned (a flow’s retentionDays setting wins).'),
  INFINITY_PUBLIC_RATE_LIMIT: int(1, 1_000_000)
    .default(100)
    .describe('Requests per minute per client address on public endpoints (sign-up, login, refresh, webhooks, published flows and agents, resume URLs).'),
  INFINITY_NODE_OUTPUT_CAP: int(1024, 64 * 1024 * 1024)
    .default(256 * 1024)
    .describe('Largest node input/output stored per node run, bytes of JSON; larger ones are truncated with a marker.'),
  INFINITY_DEFAULT_PLAN: z
    .enum(['free', 'pro', 'enterprise'])
    .default('free')
    .describe('Plan of new organizations. A team running Infinity for itself sets enterprise (no limits).'),
  INFINITY_PLAN_LIMITS: z
    .string()
    .optional()
    .describe(
      'JSON overriding plan limits, e.g. {"free":{"agents":2,"tokensPerMonth":500000}}; null = unlimited. Metrics: agents, flows, models, records, storageMb, executionsPerMonth, tokensPerMonth.',
    ),
  INFINITY_API_RATE_LIMIT: int(0, 10_000_000)
    .default(0)
    .describe('Requests per minute per credential (API key or user) on the authenticated API; 0 = unlimited. An API key’s own rateLimit wins.'),
  INFINITY_RATE_LIMIT_ROUTES: z
    .string()
    .optional()
    .describe(
      'Per-route limits, requests per minute: "POST /api/v1/auth/login=20,GET /api/v1/data/:model=600". Public routes count per client address, others per credential.',
    ),
  INFINITY_SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://')
    .optional()
    .describe('SMTP server for usage-alert emails to owners and admins, e.g. smtp://user:pass@mail.example.com:587. Unset = no email.'),
  INFINITY_SMTP_FROM: z.string().default('Infinity <infinity@localhost>').describe('Sender of emails.'),
  STRIPE_SECRET_KEY: z.string().optional().describe('Stripe secret key (sk_…); enables checkout and customer-portal links.'),
  STRIPE_WEBHOOK_SECRET: z.string().optional().describe('Signing secret of the Stripe webhook endpoint (whsec_…); without it the webhook refuses every event.'),
  STRIPE_PRICE_PRO: z.string().optional().describe('Stripe price id of the pro plan.'),
  STRIPE_PRICE_ENTERPRISE: z.string().optional().describe('Stripe price id of the enterprise plan.'),
  STRIPE_API_BASE: z.url().optional().describe('Base URL of the Stripe API (tests point it at a local fake); default https://api.stripe.com.'),
  STRIPE_WEBHOOK_TOLERANCE: int(1, 3600).default(300).describe('Seconds a Stripe signature timestamp may be off.'),
  INFINITY_LOG_RETENTION_DAYS: int(1, 3650).default(14).describe('Request-log and app-log rows older than this are pruned.'),
  INFINITY_REQUEST_LOG: bool
    .default(true)
    .describe('Store every API request (route, status, duration, org, actor; never bodies) in the database for the log viewer and /stats.'),
  INFINITY_BACKUP_SCHEDULE: z
    .string()
    .optional()
    .describe('Cron pattern (UTC) of automatic whole-instance backups by the scheduler role, e.g. "0 3 * * *"; unset = none.'),
  INFINITY_BACKUP_DIR: z.string().optional().describe('Folder of scheduled backups; default DATA_DIR/backups.'),
  INFINITY_BACKUP_KEEP: int(1, 10_000).default(7).describe('Scheduled backups kept in the folder; older ones are deleted.'),
  INFINITY_METRICS: bool.default(true).describe('Collect Prometheus metrics (HTTP, executions, queue, tokens, pool, process).'),
  INFINITY_METRICS_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters')
    .optional()
    .describe('Bearer token that /metrics requires; unset = /metrics is refused.'),
  INFINITY_EMBEDDING_BATCH: int(1, 2048).default(64).describe('Records embedded per provider call by the embedding worker.'),
  INFINITY_SEARCH_RECALL: z.coerce
    .number()
    .min(0.5)
    .max(1)
    .default(0.98)
    .describe(
      'Recall@k a model’s vector searches keep when their HNSW search width is narrowed to what the model’s own recent queries need (measured in the background against exact answers); 1 = never narrow, always the default widths.',
    ),
});

export interface Config {
  port: number;
  host: string;
  role: 'all' | 'api' | 'worker' | 'scheduler';
  dataDir: string;
  database: { kind: 'pglite'; sharedBuffers: string } | { kind: 'postgres'; url: string; poolSize: number };
  redisUrl: string | undefined;
  keys: {
    masterKey: string | undefined;
    masterKeyFile: string | undefined;
    previousMasterKeys: string[];
    jwtSecret: string | undefined;
    jwtSecretFile: string | undefined;
  };
  publicUrl: string;
  corsOrigins: string[];
  trustProxy: boolean;
  bodyLimit: number;
  importLimit: number;
  /** Connection limits: headers and whole-request timeouts, keep-alive idle time (ms), and the header size (bytes). */
  http: { headersTimeoutMs: number; requestTimeoutMs: number; idleTimeoutMs: number; maxHeaderSize: number };
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  auth: {
    accessTokenTtl: number;
    refreshTokenTtl: number;
    invitationTtl: number;
    cookieSecure: boolean;
    loginMaxFailures: number;
    loginMaxFailuresPerIp: number;
    loginWindow: number;
    /** How long a process caches an API key or a membership role (events invalidate it at once). */
    cacheTtlMs: number;
  };
  /** The event spine's outbox drain. */
  events: { outboxPollMs: number; outboxMaxAttempts: number };
  /** Realtime connections (WebSocket, SSE): heartbeat and auth deadline (ms), limits, replay window (s). */
  realtime: { heartbeatMs: number; maxConnections: number; sendBuffer: number; replayWindowSeconds: number; authTimeoutMs: number };
  shutdownGrace: number;
  httpAllow: string[];
  engine: {
    concurrency: number;
    leaseMs: number;
    pollMs: number;
    retentionDays: number;
    outputCap: number;
    publicPerMinute: number;
    maxReclaims: number;
    fault: { point: 'after-item' | 'before-checkpoint'; nodeId: string; count: number } | undefined;
  };
  ai: { embeddingBatch: number; searchRecall: number };
  plans: { defaultPlan: PlanName; limits: PlanLimits };
  rateLimit: { apiPerMinute: number; routes: Record<string, number> };
  smtp: { url: string; from: string } | undefined;
  stripe: {
    secretKey: string | undefined;
    webhookSecret: string | undefined;
    prices: Partial<Record<'pro' | 'enterprise', string>>;
    apiBase: string | undefined;
    tolerance: number;
  };
  logs: { retentionDays: number; requests: boolean };
  metrics: boolean;
  backup: { schedule: string | undefined; dir: string; keep: number };
  metricsToken: string | undefined;
  cli: { apiKey: string | undefined; url: string };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Values given on the command line win over the environment. */
export interface ConfigOverrides {
  port?: number;
  dataDir?: string;
  role?: Config['role'];
}

/** INFINITY_FAULT, parsed (already checked by its pattern). */
function faultOf(v: string | undefined): Config['engine']['fault'] {
  if (!v) return undefined;
  const i = v.indexOf(':');
  const j = v.lastIndexOf(':');
  return { point: v.slice(0, i) === 'crash-after-item' ? 'after-item' : 'before-checkpoint', nodeId: v.slice(i + 1, j), count: Number(v.slice(j + 1)) };
}

function readConfigFile(file: string): Record<string, string> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError([`INFINITY_CONFIG: cannot read ${file} as JSON (${(err as Error).message})`]);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError([`INFINITY_CONFIG: ${file} must hold a JSON object of VARIABLE: value`]);
  }
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, String(v)]));
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: ConfigOverrides = {}): Config {
  const known = Object.keys(envSchema.shape);
  const pick = (src: Record<string, string | undefined>) =>
    Object.fromEntries(known.filter((k) => src[k] !== undefined && src[k] !== '').map((k) => [k, src[k]]));
  const fromEnv = pick(env);
  const fromFile = typeof fromEnv.INFINITY_CONFIG === 'string' ? pick(readConfigFile(fromEnv.INFINITY_CONFIG)) : {};
  const parsed = envSchema.safeParse({ ...fromFile, ...fromEnv });
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  const e = parsed.data;
  const plans = parsePlanLimits(e.INFINITY_PLAN_LIMITS);
  const routeLimits = parseRouteLimits(e.INFINITY_RATE_LIMIT_ROUTES);
  const problems = [...('problems' in plans ? plans.problems : []), ...('problems' in routeLimits ? routeLimits.problems : [])];
  if (e.INFINITY_BACKUP_SCHEDULE) {
    try {
      new Cron(e.INFINITY_BACKUP_SCHEDULE, { mode: '5-or-6-parts', paused: true }).stop();
    } catch (err) {
      problems.push(`INFINITY_BACKUP_SCHEDULE: not a cron pattern (${(err as Error).message})`);
    }
  }
  if (problems.length || !('limits' in plans) || !('routes' in routeLimits)) throw new ConfigError(problems);
  const port = overrides.port ?? e.INFINITY_PORT;
  const publicUrl = (e.INFINITY_PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, '');
  return {
    port,
    host: e.INFINITY_HOST,
    role: overrides.role ?? e.INFINITY_ROLE,
    dataDir: path.resolve(overrides.dataDir ?? e.INFINITY_DATA_DIR),
    database: e.DATABASE_URL
      ? { kind: 'postgres', url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE }
      : { kind: 'pglite', sharedBuffers: e.INFINITY_PGLITE_SHARED_BUFFERS },
    redisUrl: e.REDIS_URL,
    keys: {
      masterKey: e.INFINITY_MASTER_KEY,
      masterKeyFile: e.INFINITY_MASTER_KEY_FILE,
      previousMasterKeys: e.INFINITY_MASTER_KEY_PREVIOUS ?? [],
      jwtSecret: e.INFINITY_JWT_SECRET,
      jwtSecretFile: e.INFINITY_JWT_SECRET_FILE,
    },
    publicUrl,
    corsOrigins: e.INFINITY_CORS_ORIGINS,
    trustProxy: e.INFINITY_TRUST_PROXY,
    bodyLimit: e.INFINITY_BODY_LIMIT,
    importLimit: e.INFINITY_IMPORT_LIMIT,
    http: {
      headersTimeoutMs: e.INFINITY_HTTP_HEADERS_TIMEOUT,
      // Node requires the headers deadline to fall within the whole-request one.
      requestTimeoutMs: Math.max(e.INFINITY_HTTP_REQUEST_TIMEOUT, e.INFINITY_HTTP_HEADERS_TIMEOUT),
      idleTimeoutMs: e.INFINITY_HTTP_IDLE_TIMEOUT,
      maxHeaderSize: e.INFINITY_HTTP_MAX_HEADER_SIZE,
    },
    logLevel: e.INFINITY_LOG_LEVEL,
    auth: {
      accessTokenTtl: e.INFINITY_ACCESS_TOKEN_TTL,
      refreshTokenTtl: e.INFINITY_REFRESH_TOKEN_TTL,
      invitationTtl: e.INFINITY_INVITATION_TTL,
      cookieSecure: publicUrl.startsWith('https://'),
      loginMaxFailures: e.INFINITY_LOGIN_MAX_FAILURES,
      loginMaxFailuresPerIp: e.INFINITY_LOGIN_MAX_FAILURES_PER_IP,
      loginWindow: e.INFINITY_LOGIN_WINDOW,
      cacheTtlMs: e.INFINITY_AUTH_CACHE_TTL_MS,
    },
    events: { outboxPollMs: e.INFINITY_OUTBOX_POLL, outboxMaxAttempts: e.INFINITY_OUTBOX_MAX_ATTEMPTS },
    realtime: {
      heartbeatMs: e.INFINITY_REALTIME_HEARTBEAT,
      maxConnections: e.INFINITY_REALTIME_MAX_CONNECTIONS,
      sendBuffer: e.INFINITY_REALTIME_SEND_BUFFER,
      replayWindowSeconds: e.INFINITY_REALTIME_REPLAY_WINDOW,
      authTimeoutMs: e.INFINITY_REALTIME_AUTH_TIMEOUT,
    },
    shutdownGrace: e.INFINITY_SHUTDOWN_GRACE,
    httpAllow: e.INFINITY_HTTP_ALLOW,
    engine: {
      concurrency: e.INFINITY_WORKER_CONCURRENCY,
      leaseMs: e.INFINITY_EXECUTION_LEASE * 1000,
      pollMs: e.INFINITY_QUEUE_POLL,
      retentionDays: e.INFINITY_EXECUTION_RETENTION_DAYS,
      outputCap: e.INFINITY_NODE_OUTPUT_CAP,
      publicPerMinute: e.INFINITY_PUBLIC_RATE_LIMIT,
      maxReclaims: e.INFINITY_EXECUTION_MAX_RECLAIMS,
      fault: faultOf(e.INFINITY_FAULT),
    },
    ai: { embeddingBatch: e.INFINITY_EMBEDDING_BATCH, searchRecall: e.INFINITY_SEARCH_RECALL },
    plans: { defaultPlan: e.INFINITY_DEFAULT_PLAN, limits: plans.limits },
    rateLimit: { apiPerMinute: e.INFINITY_API_RATE_LIMIT, routes: routeLimits.routes },
    smtp: e.INFINITY_SMTP_URL ? { url: e.INFINITY_SMTP_URL, from: e.INFINITY_SMTP_FROM } : undefined,
    stripe: {
      secretKey: e.STRIPE_SECRET_KEY,
      webhookSecret: e.STRIPE_WEBHOOK_SECRET,
      prices: { ...(e.STRIPE_PRICE_PRO ? { pro: e.STRIPE_PRICE_PRO } : {}), ...(e.STRIPE_PRICE_ENTERPRISE ? { enterprise: e.STRIPE_PRICE_ENTERPRISE } : {}) },
      apiBase: e.STRIPE_API_BASE,
      tolerance: e.STRIPE_WEBHOOK_TOLERANCE,
    },
    logs: { retentionDays: e.INFINITY_LOG_RETENTION_DAYS, requests: e.INFINITY_REQUEST_LOG },
    metrics: e.INFINITY_METRICS,
    backup: {
      schedule: e.INFINITY_BACKUP_SCHEDULE,
      dir: path.resolve(e.INFINITY_BACKUP_DIR ?? path.join(overrides.dataDir ?? e.INFINITY_DATA_DIR, 'backups')),
      keep: e.INFINITY_BACKUP_KEEP,
    },
    metricsToken: e.INFINITY_METRICS_TOKEN,
    cli: { apiKey: e.INFINITY_API_KEY, url: (e.INFINITY_URL ?? publicUrl).replace(/\/+$/, '') },
  };
}
