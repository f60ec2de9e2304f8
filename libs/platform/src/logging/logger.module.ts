import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import pino from 'pino';
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
    },
    (opts.stream ?? process.stdout) as pino.DestinationStream,
  );
}

/** pino JSON logs with header/field redaction and a request id on every line. */
@Module({})
export class AppLoggerModule {
  static forRoot(opts: AppLoggerOptions): DynamicModule {
    const logger = createPino(opts);
    return {
      module: AppLoggerModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            logger,
            genReqId: (req) => requestId(req),
            customProps: (req) => ({ request_id: (req as IncomingMessage & { id?: string }).id }),
            serializers: {
              req: (req: { id: string; method: string; url: string; headers: Record<string, unknown> }) => ({
                id: req.id,
                method: req.method,
                // The query string may carry anything a caller put there; keep the path only.
                url: String(req.url).split('?')[0],
                headers: req.headers,
              }),
            },
            autoLogging: { ignore: (req) => (req.url ?? '').startsWith('/health') || req.url === '/metrics' },
          },
        }),
      ],
      exports: [LoggerModule],
    };
  }
}
