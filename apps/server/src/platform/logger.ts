import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * JSON logs, one object per line: time, level, service, requestId, org, actor, route, status,
 * duration. Credentials are redacted at the source so no sink can ever see them.
 */
// Explicit paths, not wildcards: a wildcard makes pino walk every object of every log line, which
// measured ~3% of a request. These are the places a credential could be put by mistake; code never
// logs request bodies or headers at all.
export const REDACT_PATHS = [
  'password',
  'value',
  'token',
  'accessToken',
  'refreshToken',
  'key',
  'secret',
  'authorization',
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  'body.password',
  'body.value',
  'body.token',
  'err.config.headers.authorization',
];

/**
 * Where warn-and-worse lines go besides the main destination: the app log in the database, once
 * the app is built (`tapOf(logger).attach(…)`). Until then, and without a handler, lines are dropped.
 */
export class LogTap {
  private handler: ((line: string) => void) | undefined;
  attach(handler: ((line: string) => void) | undefined): void {
    this.handler = handler;
  }
  write(line: string): void {
    this.handler?.(line);
  }
}

const taps = new WeakMap<object, LogTap>();

/** The tap of a logger made by createLogger (children share their root's streams). */
export function tapOf(logger: Logger): LogTap | undefined {
  return taps.get(logger);
}

export function createLogger(opts: { level: string; service?: string; destination?: pino.DestinationStream }): Logger {
  const tap = new LogTap();
  const main = opts.destination ?? pino.destination({ dest: 1, sync: true });
  const logger = pino(
    {
      level: opts.level,
      base: { service: opts.service ?? 'infinity' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    // NB: synchronous writes on purpose. An asynchronous buffered destination measured no faster
    // here (the cost is building the line, not the write) and lost the last lines at exit.
    pino.multistream([
      { level: 'trace', stream: main },
      { level: 'warn', stream: tap },
    ]),
  );
  taps.set(logger, tap);
  return logger;
}
