import type { IncomingMessage } from 'node:http';
import { INestApplication, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppBaseConfig, DEFAULT_HTTP_LIMITS, HttpLimits } from './config/env';
import { installDrain } from './http/drain';
import { edgeServerOptions, installEdge } from './http/edge';
import { AppLogger, LogContext, logContext } from './logging/app-logger';
import { REQUEST_ID_HEADER, installRequestLogging, requestId } from './logging/logger.module';
import { microserviceOptions } from './messaging/messaging.module';
import { installHttpMetrics } from './metrics/http-metrics.hook';

export interface BootOptions {
  app: string;
  port: number;
  host: string;
  natsUrl?: string;
  /** Addresses/CIDRs of proxies whose X-Forwarded-For is believed; none by default. */
  trustedProxies?: string[];
  /** Timeouts, sizes and the shutdown drain bound; the defaults when absent. */
  http?: HttpLimits;
  /** Install SIGTERM/SIGINT handlers (off for apps embedded in tests). */
  shutdownHooks?: boolean;
  /** Whether this app consumes NATS/in-process messages. */
  microservice?: boolean;
  configure?: (app: NestFastifyApplication) => void | Promise<void>;
}

/**
 * The one way an app boots: Fastify, pino, validation, messaging, the HTTP edge (timeouts, body
 * limits, text checks: docs/limits-and-timeouts.md) and a bounded graceful shutdown (stop
 * accepting, drain in-flight requests, close what is left, then NATS and the rest).
 */
export function bootApp(module: unknown, opts: BootOptions): Promise<NestFastifyApplication> {
  // Everything the app starts while booting runs in this context, so in a process hosting
  // several apps its log lines outside requests still name this app (see LogContext).
  const context: LogContext = {};
  return logContext.run(context, () => boot(module, opts, context));
}

async function boot(module: unknown, opts: BootOptions, context: LogContext): Promise<NestFastifyApplication> {
  const limits = opts.http ?? DEFAULT_HTTP_LIMITS;
  const adapter = new FastifyAdapter({
    ...edgeServerOptions(limits),
    trustProxy: opts.trustedProxies && opts.trustedProxies.length ? opts.trustedProxies : false,
    // Requests that come while closing are answered by the drain, in the {"detail"} shape.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // One id per request, shared by fastify and the pino request logger, and propagated downstream.
    genReqId: (req: IncomingMessage) => {
      const id = requestId(req);
      req.headers[REQUEST_ID_HEADER] = id;
      return id;
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(module as never, adapter, {
    bufferLogs: true,
    rawBody: true,
  });
  context.logger = app.get(AppLogger).pino;
  app.useLogger(app.get(AppLogger));
  installDrain(app, limits.shutdownDrainMs);
  installEdge(app, limits);
  installRequestLogging(app);
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  if (opts.shutdownHooks) closeOnSignal(app, limits.shutdownDrainMs);
  if (opts.microservice !== false) {
    app.connectMicroservice(microserviceOptions({ natsUrl: opts.natsUrl, app: opts.app }), { inheritAppConfig: true });
    await app.startAllMicroservices();
  }
  installHttpMetrics(app);
  if (opts.configure) await opts.configure(app);
  await app.listen(opts.port, opts.host);
  return app;
}

/**
 * On SIGTERM/SIGINT: close the app (the bounded drain, then Nest's shutdown), then re-raise the
 * signal so the process ends the way its supervisor expects. Should a dependency hang the
 * shutdown itself, the process still ends 10 s after the drain bound.
 */
function closeOnSignal(app: NestFastifyApplication, drainMs: number): void {
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];
  const onSignal = (signal: NodeJS.Signals): void => {
    for (const s of signals) process.removeListener(s, onSignal);
    const end = (): void => {
      process.kill(process.pid, signal);
    };
    setTimeout(end, drainMs + 10_000).unref();
    app.close().then(end, (err: unknown) => {
      process.stderr.write(`shutdown: ${err instanceof Error ? err.message : String(err)}\n`);
      end();
    });
  };
  for (const s of signals) process.on(s, onSignal);
}

/** The boot options that come straight from an app's typed config. */
export function bootOptionsFor(
  cfg: AppBaseConfig & { app: string },
): Pick<BootOptions, 'app' | 'port' | 'host' | 'natsUrl' | 'trustedProxies' | 'http'> {
  return {
    app: cfg.app,
    port: cfg.port,
    host: cfg.host,
    natsUrl: cfg.natsUrl,
    trustedProxies: cfg.trustedProxies,
    http: cfg.http,
  };
}

/** The URL an app listens on, with 0.0.0.0 shown as 127.0.0.1 for callers. */
export async function appUrl(app: INestApplication): Promise<string> {
  const url = await app.getUrl();
  return url.replace('[::1]', '127.0.0.1').replace('0.0.0.0', '127.0.0.1').replace('localhost', '127.0.0.1');
}
