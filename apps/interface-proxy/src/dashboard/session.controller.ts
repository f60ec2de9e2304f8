import {
  Body,
  Controller,
  Delete,
  ForbiddenException,
  Get,
  HttpCode,
  HttpException,
  HttpStatus,
  Post,
  Req,
  Res,
  UnauthorizedException,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { AdminKeySource, Auth, AuditLog, checkAdminKey, DashboardPrincipal, Principal, Public } from '@portcullis/auth';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DashboardSession, DashboardSessions } from './dashboard-sessions';
import { clearedSessionCookie, readCookie, sameOrigin, SESSION_COOKIE, sessionCookie } from './request-checks';
import { SignInDto } from './session.dto';

export interface SessionView {
  csrf_token: string;
  expires_at: string;
}

/**
 * Sign-in (admin key for a session cookie), the page's session read, and sign-out.
 * Sign-in is public: it is where the admin key is presented (in the body, checked here
 * with libs/auth's checkAdminKey, with its own failure limit); the rest needs the session.
 */
@ApiExcludeController()
@Controller('dashboard/api/session')
export class SessionController {
  constructor(
    private readonly sessions: DashboardSessions,
    private readonly keys: AdminKeySource,
    private readonly audit: AuditLog,
  ) {}

  @Public()
  @Post()
  @HttpCode(200)
  signIn(
    @Body() body: SignInDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): SessionView {
    const record = (decision: 'allow' | 'deny', reason: string) =>
      this.audit.record({
        action: 'dashboard.sign_in',
        decision,
        reason,
        request_id: String(req.id),
        client_ip: req.ip,
      });
    // Login CSRF: a foreign page must not sign a browser into this dashboard.
    if (!sameOrigin(req)) {
      record('deny', 'cross_origin');
      throw new ForbiddenException({ detail: 'request refused: reload the dashboard and try again' });
    }
    if (this.sessions.signInBlocked(req.ip)) {
      record('deny', 'too_many_failures');
      throw new HttpException({ detail: 'too many failed sign-ins; wait a few minutes' }, HttpStatus.TOO_MANY_REQUESTS);
    }
    const decision = checkAdminKey(body.api_key, this.keys.keys());
    if (!decision.ok) {
      this.sessions.signInFailed(req.ip);
      record('deny', decision.reason);
      throw new UnauthorizedException({ detail: 'that admin API key is not accepted' });
    }
    this.sessions.destroy(readCookie(req, SESSION_COOKIE));
    const { id, session } = this.sessions.create();
    record('allow', `admin_key_${decision.which}`);
    void reply.header('set-cookie', sessionCookie(req, id, this.sessions.ttlSeconds));
    return { csrf_token: session.csrfToken, expires_at: new Date(session.expiresAt).toISOString() };
  }

  /** The page asks this on load; CORS is off, so only same-origin script can read the CSRF token. */
  @Auth('dashboard-session')
  @Get()
  current(@Principal() { session }: DashboardPrincipal<DashboardSession>): SessionView {
    return { csrf_token: session.csrfToken, expires_at: new Date(session.expiresAt).toISOString() };
  }

  @Auth('dashboard-session')
  @Delete()
  @HttpCode(204)
  signOut(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): void {
    this.sessions.destroy(readCookie(req, SESSION_COOKIE));
    this.audit.record({
      action: 'dashboard.sign_out',
      decision: 'allow',
      reason: 'ok',
      request_id: String(req.id),
      client_ip: req.ip,
    });
    void reply.header('set-cookie', clearedSessionCookie(req));
  }
}
