import { DynamicModule, Module } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import pino from 'pino';
import { AUTH_OUTCOME, WithAuthOutcome } from '../auth-boundary/auth-outcome';
import { AppLogger, logContext, requestIdMixin } from './app-logger';
import { REDACT_PATHS } from './redaction';

export interface AppLoggerOptions {
  app: string;
  level: string;
  /** Where JSON lines go; tests pass a capture stream. Defaults to stdout. */
  stream?: NodeJS.WritableStream;
}

export const REQUEST_ID_HEADER = 'x-request-id';

/** The request id: the caller's X-Request-Id when it looks like one, else a new uuid. */
export function requestId(req: IncomingMessage): string {
  const given = req.headers[REQUEST_ID_HEADER];
  const id = Array.isArray(given) ? given[0] : given;
  // Accept a caller's id only when it looks like one, so a log line cannot be forged through it.
  return id && /^[A-Za-z0-9._-]{1,64}$/.test(id) ? id : randomUUID();
}

export function createPino(opts: AppLoggerOptions): pino.Logger {
  return pino(
    {
      level: opts.level,
      base: { app: opts.app },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin: requestIdMixin,
    },
    (opts.stream ?? process.stdout) as pino.DestinationStream,
  );
}

/** pino JSON logs with header/field redaction; `installRequestLogging` adds the per-request part. */
@Module({})
export class AppLoggerModule {
  static forRoot(opts: AppLoggerOptions): DynamicModule {
    return {
      module: AppLoggerModule,
      providers: [{ provide: AppLogger, useValue: new AppLogger(createPino(opts)) }],
      exports: [AppLogger],
    };
  }
}

const quiet = (url: string): boolean => url.startsWith('/health') || url === '/metrics';

/**
 * A request id on every line written while a request is handled, and one
 * "request completed" line per request (not for health checks or metrics
 * scrapes), built only when its level is enabled. That line carries the auth
 * guard's outcome (`auth: {decision, reason, principal}`): an allowed read is
 * recorded there and in the decision counter, not as a separate audit event.
 */
export function installRequestLogging(app: NestFastifyApplication): void {
  const logger = app.get(AppLogger).pino;
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', (req, _reply, done) => {
    logContext.run({ requestId: String(req.id), logger }, done);
  });
  // No second entry is needed once the body is read: Fastify binds its body parser's callback
  // to the request's async context (AsyncResource), so the handler runs inside this one.
  fastify.addHook('onResponse', (req, reply, done) => {
    const failed = reply.statusCode >= 500;
    const level = failed ? 'error' : 'info';
    if (logger.isLevelEnabled(level) && !quiet(req.url)) {
      logger[level](
        {
          request_id: String(req.id),
          // The query string may carry anything a caller put there; keep the path only.
          req: { id: String(req.id), method: req.method, url: req.url.split('?')[0], headers: req.headers },
          res: { statusCode: reply.statusCode },
          responseTime: Math.round(reply.elapsedTime),
          auth: (req as unknown as WithAuthOutcome)[AUTH_OUTCOME],
        },
        failed ? 'request errored' : 'request completed',
      );
    }
    done();
  });
}
