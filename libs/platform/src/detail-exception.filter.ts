import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Observable, throwError } from 'rxjs';
import { DependencyUnavailable, isDependencyOutage, outageDependency } from './errors';

/**
 * Every error leaves as `{"detail": "..."}` (FastAPI's shape, which clients already parse). An
 * unexpected error is logged server-side and answered with a fixed message,
 * so no internal detail (or secret inside one) reaches the caller; an error that
 * says a dependency is unreachable is answered 503 with Retry-After instead.
 */
@Catch()
export class DetailExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void | Observable<never> {
    // A message handler's error (a refusal by the auth guard, say) goes back as the
    // transport's error reply; for an event nobody waits for it. Rethrowing here would
    // reject outside any handler and end the process.
    if (host.getType() === 'rpc') return throwError(() => rpcError(exception));
    if (host.getType() !== 'http') throw exception;
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    let status = HttpStatus.INTERNAL_SERVER_ERROR;
    let body: Record<string, unknown> = { detail: 'internal error' };
    if (exception instanceof HttpException) {
      status = exception.getStatus();
      const res = exception.getResponse();
      if (typeof res === 'string') body = { detail: res };
      else if (res && typeof res === 'object') {
        const r = res as Record<string, unknown>;
        // Readiness results (terminus) keep their per-dependency shape.
        if ('detail' in r || ('status' in r && 'details' in r)) body = r;
        else {
          const msg = Array.isArray(r.message) ? r.message.join('; ') : (r.message as string | undefined);
          body = { detail: msg ?? exception.message };
        }
      }
      const headers = (exception as HttpException & { headers?: Record<string, string> }).headers;
      if (headers) for (const [k, v] of Object.entries(headers)) void reply.header(k, v);
    } else if (isDependencyOutage(exception)) {
      // An outage no code path anticipated is still an outage: 503 with Retry-After, not 500.
      const outage = new DependencyUnavailable(outageDependency(exception));
      this.logger.warn(
        { err: exception instanceof Error ? { name: exception.name, message: exception.message } : String(exception) },
        'dependency unavailable',
      );
      status = outage.getStatus();
      body = outage.getResponse() as Record<string, unknown>;
      for (const [k, v] of Object.entries(outage.headers)) void reply.header(k, v);
    } else {
      this.logger.error(
        {
          err:
            exception instanceof Error
              ? { name: exception.name, message: exception.message, stack: exception.stack }
              : String(exception),
        },
        'unhandled error',
      );
    }
    void reply.status(status).send(body);
  }
}

/** What an rpc caller gets: the RpcException's own error (`{"detail": ...}` from the guard), else a fixed message. */
function rpcError(exception: unknown): unknown {
  const e = exception as { getError?: () => unknown };
  if (exception instanceof Error && exception.name === 'RpcException' && typeof e.getError === 'function')
    return e.getError();
  if (
    exception &&
    typeof exception === 'object' &&
    exception.constructor?.name === 'RpcException' &&
    typeof e.getError === 'function'
  )
    return e.getError();
  return { detail: 'internal error' };
}
