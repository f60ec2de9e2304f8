import { applyDecorators, CanActivate, ExecutionContext, ForbiddenException, Injectable, UnauthorizedException, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { AuditLog, Public, safeEqual } from '@portcullis/auth';
import type { FastifyRequest } from 'fastify';
import { DashboardSessions } from './dashboard-sessions';
import { CSRF_HEADER, readCookie, sameOrigin, SESSION_COOKIE } from './request-checks';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Session guard of the dashboard API: the session cookie on every call, and on
 * every state change a same-origin request carrying the session's CSRF token.
 * Refusals are fixed bodies; the reason goes to the audit log.
 */
@Injectable()
export class DashboardSessionGuard implements CanActivate {
  private readonly audit = new AuditLog('interface-proxy');

  constructor(private readonly sessions: DashboardSessions) {}

  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    const action = `${req.method} ${req.routeOptions?.url ?? 'unmatched'}`;
    const deny = (reason: string, status: 401 | 403): never => {
      this.audit.record({ action, decision: 'deny', reason, request_id: String(req.id), client_ip: req.ip });
      if (status === 401) throw new UnauthorizedException({ detail: 'not signed in' });
      throw new ForbiddenException({ detail: 'request refused: reload the dashboard and try again' });
    };
    const session = this.sessions.get(readCookie(req, SESSION_COOKIE));
    if (!session) return deny('no_session', 401);
    if (!SAFE_METHODS.has(req.method)) {
      if (!sameOrigin(req)) return deny('cross_origin', 403);
      const raw = req.headers[CSRF_HEADER];
      const token = Array.isArray(raw) ? raw[0] : raw;
      if (!token || !safeEqual(token, session.csrfToken)) return deny('csrf_token', 403);
    }
    return true;
  }
}

/** A dashboard API controller: out of the Bearer-JWT caller guard, into the session guard. */
export function DashboardApi(): ClassDecorator {
  return applyDecorators(Public(), ApiExcludeController(), UseGuards(DashboardSessionGuard));
}
