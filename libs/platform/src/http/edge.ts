import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyHttpOptions, FastifyReply, FastifyRequest } from 'fastify';
import type { Server } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { HttpLimits } from '../config/env';
import { BodyRefused, parseJsonBody } from './json-body';
import { textProblem, valueTextProblem } from './text-checks';

/**
 * Longest path parameter the router matches (find-my-way counts the raw, still percent-encoded
 * text). Device ids may be 128 characters, room names 200; a colon is sent as three.
 */
const MAX_PARAM_LENGTH = 512;

/** How a raw-socket refusal reads: the same `{"detail"}` shape as every other error. */
function rawResponse(status: number, detail: string): string {
  const body = JSON.stringify({ detail });
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/**
 * Answers what Node's HTTP parser refuses before Fastify sees a request: a request line or
 * headers that are not HTTP (400), headers over Node's size limit (431), and a request whose
 * headers or body did not arrive in time (408). Nothing is written once a response has started.
 */
function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') socket.write(rawResponse(408, 'the request did not arrive in time'));
    else if (err.code === 'HPE_HEADER_OVERFLOW') socket.write(rawResponse(431, 'the request headers are too large'));
    else socket.write(rawResponse(400, 'the request is not valid HTTP'));
  }
  socket.destroy();
}

/** Errors Fastify raises while routing, before Nest's handlers and filters exist for the request. */
function frameworkErrors(err: Error & { code?: string }, _req: FastifyRequest, reply: FastifyReply): void {
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') void reply.code(414).send({ detail: 'a path segment is too long' });
  else if (err.code === 'FST_ERR_BAD_URL')
    void reply.code(400).send({ detail: 'the URL is not valid (bad percent-encoding)' });
  else void reply.code(400).send({ detail: 'the request could not be routed' });
}

/** The Fastify options of the edge: timeouts, sizes and raw-socket refusals. */
export function edgeServerOptions(limits: HttpLimits): FastifyHttpOptions<Server> {
  // Node checks its headers and request timeouts on this interval (30 s by default, which would
  // let a slow client hold a socket up to 30 s past its timeout).
  const checkEvery = Math.max(
    50,
    Math.min(1000, Math.floor(Math.min(limits.headersTimeoutMs, limits.bodyTimeoutMs) / 4)),
  );
  return {
    bodyLimit: limits.bodyLimitBytes,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    requestTimeout: limits.bodyTimeoutMs,
    // No socket inactivity timeout: an SSE stream or a WebSocket may be quiet for long.
    connectionTimeout: 0,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.bodyTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: checkEvery,
    },
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    clientErrorHandler,
    frameworkErrors,
  };
}

const routeTables = new WeakMap<object, Array<{ method: string; url: string }>>();

/** Every route the app registered (Fastify's own table, collected as the routes were added). */
export function httpRoutes(app: NestFastifyApplication): Array<{ method: string; url: string }> {
  return [...(routeTables.get(app) ?? [])];
}

/**
 * What every request passes before Nest sees it; installed on the Fastify instance before the
 * app's routes are registered.
 *
 * - Only `application/json` bodies are read (anything else is 415), through a parser that refuses
 *   a body too deep, repeating a key, not UTF-8, or carrying a NUL / lone surrogate in any string
 *   (400) before class-validator walks it. The raw bytes stay on `req.rawBody` for signatures.
 * - Path parameters, query values and header values with a NUL or lone surrogate are 400.
 * - A request whose answer has not started `requestTimeoutMs` after it arrived is answered 503.
 *   A response that has started (an SSE stream) is left alone.
 */
export function installEdge(app: NestFastifyApplication, limits: HttpLimits): void {
  const fastify = app.getHttpAdapter().getInstance();
  const routes: Array<{ method: string; url: string }> = [];
  routeTables.set(app, routes);
  fastify.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routes.push({ method, url: r.url });
  });

  // Fastify's defaults (JSON and text/plain) and Nest's (JSON and urlencoded) are replaced by one.
  fastify.removeAllContentTypeParsers();
  const defaultJson = fastify.getDefaultJsonParser('error', 'error');
  app.useBodyParser('application/json', { bodyLimit: limits.bodyLimitBytes }, (req, body, done) => {
    try {
      const value = parseJsonBody(body, limits.jsonMaxDepth, (text) => {
        let out: unknown;
        let failed: Error | undefined;
        void defaultJson(req as never, text, (err, v) => {
          if (err) failed = err;
          else out = v;
        });
        if (failed) throw failed;
        return out;
      });
      done(null, value);
    } catch (err) {
      done(err instanceof BodyRefused ? err : new BodyRefused('the body is not valid JSON'), undefined);
    }
  });

  fastify.addHook('onRequest', (req, reply, done) => {
    const problem =
      valueTextProblem(req.params, 'path') ?? valueTextProblem(req.query, 'query') ?? headerProblem(req.raw.rawHeaders);
    if (problem) {
      void reply.code(400).send({ detail: problem });
      return;
    }
    done();
  });

  fastify.addHook('preHandler', (req, reply, done) => {
    const timer = setTimeout(() => {
      if (reply.sent || reply.raw.headersSent) return;
      void reply
        .code(503)
        .header('connection', 'close')
        .send({ detail: `the request was not answered within ${limits.requestTimeoutMs} ms` });
    }, limits.requestTimeoutMs);
    timer.unref();
    reply.raw.once('close', () => clearTimeout(timer));
    done();
  });
}

function headerProblem(raw: string[]): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    const p = textProblem(raw[i]) ?? textProblem(raw[i + 1]);
    if (p) return `a request header ${p}`;
  }
  return undefined;
}
