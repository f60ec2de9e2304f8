import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { DependencyUnavailable, isDependencyOutage, outageDependency } from '@portcullis/platform';
import { catchError, Observable, throwError } from 'rxjs';

const POSTGRES = 'Postgres';

/**
 * Whether `err` means device-auth's Postgres cannot be used right now: it is
 * unreachable, restarting, or did not answer within the statement/read timeout.
 * Such a request is answered 503 with Retry-After (never 500, never 401).
 */
export function isPostgresOutage(err: unknown): boolean {
  if (err instanceof DependencyUnavailable) return err.dependency === POSTGRES;
  if (isDependencyOutage(err)) return outageDependency(err) !== 'NATS';
  return timedOut(err);
}

/** statement_timeout (57014 query_canceled) or pg's client-side read timeout, possibly wrapped by TypeORM. */
function timedOut(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 3) return false;
  const e = err as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown };
  if (e.code === '57014' || (typeof e.message === 'string' && /^Query read timeout$/.test(e.message))) return true;
  return timedOut(e.driverError, depth + 1) || timedOut(e.cause, depth + 1);
}

export function postgresUnavailable(cause: unknown): DependencyUnavailable {
  return cause instanceof DependencyUnavailable ? cause : new DependencyUnavailable(POSTGRES, undefined, { cause });
}

/** Turns a Postgres outage met inside a handler into DependencyUnavailable('Postgres'); anything else passes through. */
@Injectable()
export class PostgresOutageInterceptor implements NestInterceptor {
  intercept(_ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next
      .handle()
      .pipe(catchError((err: unknown) => throwError(() => (isPostgresOutage(err) ? postgresUnavailable(err) : err))));
  }
}
