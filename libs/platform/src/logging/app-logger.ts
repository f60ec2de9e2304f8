import { AsyncLocalStorage } from 'node:async_hooks';
import type { LoggerService } from '@nestjs/common';
import type pino from 'pino';

/**
 * The async context log lines are written in. bootApp enters one per app (the
 * logger is set once the app has it), so whatever the app starts while booting
 * (timers, connections, subscriptions) logs as that app even when several apps
 * share a process (the all-in-one runner); each HTTP request enters its own,
 * which adds the request id.
 */
export interface LogContext {
  /** Set inside an HTTP request. */
  requestId?: string;
  /** The app's own logger, so a line written for app A while B's logger is Nest's global one still says A. */
  logger?: pino.Logger;
}

/** Entered by bootApp for each app and by installRequestLogging for each request. */
export const logContext = new AsyncLocalStorage<LogContext>();

/** pino `mixin`: every line written inside a request carries its id. */
export function requestIdMixin(): Record<string, unknown> {
  const id = logContext.getStore()?.requestId;
  return id ? { request_id: id } : {};
}

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/**
 * Nest's LoggerService over pino, with the nestjs-pino line shape (`context`,
 * objects merged, errors under `err`). It replaced nestjs-pino because that one
 * builds three child loggers per request (each serializing and redacting the
 * request) even when nothing is logged; here a request costs one
 * AsyncLocalStorage entry and the ids come from the mixin above.
 */
export class AppLogger implements LoggerService {
  constructor(readonly pino: pino.Logger) {}

  verbose(message: unknown, ...params: unknown[]): void {
    this.call('trace', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.call('debug', message, params);
  }
  log(message: unknown, ...params: unknown[]): void {
    this.call('info', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.call('warn', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.call('error', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.call('fatal', message, params);
  }

  private call(level: Level, message: unknown, params: unknown[]): void {
    const logger = logContext.getStore()?.logger ?? this.pino;
    if (!logger.isLevelEnabled(level)) return;
    const obj: Record<string, unknown> = {};
    // Nest passes the context (the class name) last.
    if (params.length) obj.context = params[params.length - 1];
    const rest = params.slice(0, -1);
    // pino's own form is (object, message, ...interpolation): Nest callers write logger.warn({ ... }, 'text').
    if (message instanceof Error) {
      obj.err = message;
      logger[level](obj, ...(rest as [string]));
    } else if (typeof message === 'object' && message !== null) {
      logger[level](Object.assign(obj, message), ...(rest as [string]));
    } else if (level === 'error' && rest.length === 1 && typeof rest[0] === 'string' && /\n\s*at /.test(rest[0])) {
      // Nest's exception handlers call error(message, stack, context).
      const err = new Error(String(message));
      err.stack = rest[0];
      obj.err = err;
      logger[level](obj);
    } else {
      logger[level](obj, String(message), ...rest);
    }
  }
}
