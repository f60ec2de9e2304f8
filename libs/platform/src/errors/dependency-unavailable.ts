import { ServiceUnavailableException } from '@nestjs/common';

/** How long a caller is told to wait before trying again after an outage, in seconds. */
const OUTAGE_RETRY_AFTER_SECONDS = 5;

/**
 * A dependency the request needs (NATS, its key-value buckets, Postgres) cannot be used right
 * now. Answered as `503 {"detail"}` with `Retry-After`: never 500 (nothing is broken in the
 * request) and never 401 (the caller's credential may be perfectly good).
 */
export class DependencyUnavailable extends ServiceUnavailableException {
  readonly headers: Record<string, string>;

  constructor(
    readonly dependency: string,
    retryAfterSeconds = OUTAGE_RETRY_AFTER_SECONDS,
    options?: { cause?: unknown },
  ) {
    super({ detail: `${dependency} is unavailable; retry after ${retryAfterSeconds} s` }, { cause: options?.cause });
    this.headers = { 'Retry-After': String(retryAfterSeconds) };
  }
}

/** Socket-level errors that mean "the server is not there right now", from pg, nats or Node. */
const OUTAGE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  // nats.js
  'CONNECTION_CLOSED',
  'CONNECTION_DRAINING',
  'CONNECTION_REFUSED',
  'DISCONNECT',
  'TIMEOUT',
  'REQUEST_ERROR',
  '503',
  // KvUnavailable (messaging/kv-bucket): a JetStream key-value bucket cannot be bound or written
  'KV_UNAVAILABLE',
  // Postgres: connection_exception (08*), admin/crash shutdown, cannot connect now, too many connections
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '57P01',
  '57P02',
  '57P03',
  '53300',
  // query_canceled: the statement timeout ran out, so Postgres did not answer in time
  '57014',
]);

const OUTAGE_MESSAGES = [
  /Connection terminated/i,
  /connection (?:is )?(?:closed|ended|refused)/i,
  /Client has encountered a connection error/i,
  /terminating connection/i,
  /the database system is (?:starting up|shutting down)/i,
  /timeout exceeded when trying to connect/i,
  /NATS is not (?:connected|configured)/i,
  // pg's client-side read timeout (the pool's query_timeout)
  /^Query read timeout$/,
];

/**
 * Whether `err` (or anything in its cause chain, or a driver error TypeORM wrapped) says a
 * dependency is unreachable, as opposed to a bug. Used by the error filter so that an outage
 * nobody anticipated still answers 503 rather than 500.
 */
export function isDependencyOutage(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 5) return false;
  if (err instanceof DependencyUnavailable) return true;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown; driverError?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && OUTAGE_CODES.has(e.code)) return true;
  if (typeof e.message === 'string' && OUTAGE_MESSAGES.some((re) => re.test(e.message as string))) return true;
  if (Array.isArray(e.errors) && e.errors.some((x) => isDependencyOutage(x, depth + 1))) return true;
  return isDependencyOutage(e.driverError, depth + 1) || isDependencyOutage(e.cause, depth + 1);
}

/** Names the dependency an outage error came from, for the 503's detail and the log line. */
export function outageDependency(err: unknown): string {
  if (err instanceof DependencyUnavailable) return err.dependency;
  const text = JSON.stringify(err, Object.getOwnPropertyNames(err ?? {})) ?? '';
  if (/nats|jetstream|\$KV|\$JS/i.test(text)) return 'NATS';
  // TypeORM wraps driver errors; pg's own carry a severity, or one of its connection messages.
  if (/"driverError"|"severity"|Query read timeout|Connection terminated|database system|postgres/i.test(text)) {
    return 'Postgres';
  }
  return 'a dependency';
}
