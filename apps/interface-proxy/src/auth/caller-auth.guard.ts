import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuditLog, JwksTokenVerifier, Public, TokenRejected, bearerToken } from '@portcullis/auth';
import { MetricsService } from '@portcullis/platform';
import type { FastifyRequest } from 'fastify';
import { InterfaceProxyConfig } from '../config';

/**
 * The one global guard of interface-proxy. With INTERFACE_AUTH_REQUIRED=1 every
 * non-public route needs a Bearer JWT from the configured issuer (device-auth's
 * JWKS, or any OIDC provider's).
 */
@Injectable()
export class CallerAuthGuard implements CanActivate {
  private readonly verifier?: JwksTokenVerifier;
  private readonly audit: AuditLog;

  constructor(private readonly reflector: Reflector, private readonly cfg: InterfaceProxyConfig, private readonly metrics: MetricsService) {
    this.audit = new AuditLog(cfg.app);
    if (cfg.callerAuth) this.verifier = new JwksTokenVerifier({ ...cfg.callerAuth, maxLifetimeSeconds: 3600 });
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    if (this.reflector.getAllAndOverride(Public, [ctx.getHandler(), ctx.getClass()])) return true;
    if (!this.verifier) return true;
    const req = ctx.switchToHttp().getRequest<FastifyRequest & { principal?: unknown }>();
    const route = req.routeOptions?.url ?? 'unmatched';
    try {
      const claims = await this.verifier.verify(bearerToken(req.headers.authorization));
      req.principal = claims;
      this.metrics.authDecision(route, 'allow', 'ok');
      this.audit.record({ action: `${req.method} ${route}`, decision: 'allow', reason: 'ok', principal: String(claims.sub), request_id: String(req.id), client_ip: req.ip });
      return true;
    } catch (err) {
      const reason = err instanceof TokenRejected ? err.reason : 'malformed_token';
      this.metrics.authDecision(route, 'deny', reason);
      this.audit.record({ action: `${req.method} ${route}`, decision: 'deny', reason, request_id: String(req.id), client_ip: req.ip });
      throw new UnauthorizedException({ detail: 'unauthorized' });
    }
  }
}
