import { CanActivate, ExecutionContext, Injectable, Optional, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuditLog, DeviceTokenVerifier, JwksTokenVerifier, httpAction, publicOrAction, TokenRejected, bearerToken } from '@portcullis/auth';
import { MetricsService } from '@portcullis/platform';
import type { FastifyRequest } from 'fastify';
import { InterfaceProxyConfig } from '../config';

/**
 * The one global guard of interface-proxy. With INTERFACE_AUTH_REQUIRED=1 every
 * non-public route needs a Bearer JWT: a device token from device-auth (checked
 * against its revocation map too) or a token from the configured OIDC issuer.
 */
@Injectable()
export class CallerAuthGuard implements CanActivate {
  private readonly verifier?: JwksTokenVerifier;
  private readonly audit: AuditLog;
  private readonly routes: ReturnType<typeof publicOrAction>;

  constructor(
    reflector: Reflector,
    private readonly cfg: InterfaceProxyConfig,
    private readonly metrics: MetricsService,
    @Optional() private readonly devices?: DeviceTokenVerifier,
  ) {
    this.audit = new AuditLog(cfg.app);
    this.routes = publicOrAction(reflector);
    if (cfg.callerAuth) this.verifier = new JwksTokenVerifier({ ...cfg.callerAuth, maxLifetimeSeconds: 3600 });
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    if (this.routes.of(ctx).open) return true;
    if (!this.verifier && !this.devices) return true;
    const req = ctx.switchToHttp().getRequest<FastifyRequest & { principal?: unknown }>();
    const route = req.routeOptions?.url ?? 'unmatched';
    try {
      const claims = await this.verifyToken(bearerToken(req.headers.authorization));
      req.principal = claims;
      this.metrics.authDecision(route, 'allow', 'ok');
      this.audit.record({ action: httpAction(req.method, route), decision: 'allow', reason: 'ok', principal: String(claims.sub), request_id: String(req.id), client_ip: req.ip });
      return true;
    } catch (err) {
      const reason = err instanceof TokenRejected ? err.reason : 'malformed_token';
      this.metrics.authDecision(route, 'deny', reason);
      this.audit.record({ action: httpAction(req.method, route), decision: 'deny', reason, request_id: String(req.id), client_ip: req.ip });
      throw new UnauthorizedException({ detail: 'unauthorized' });
    }
  }

  /** Device tokens first (revocation-aware), then the OIDC issuer; the last refusal is the reason. */
  private async verifyToken(token: string | undefined): Promise<{ sub?: string }> {
    if (this.devices) {
      try {
        const device = await this.devices.verify(token);
        return { sub: device.deviceId };
      } catch (err) {
        if (!this.verifier) throw err;
      }
    }
    return (this.verifier as JwksTokenVerifier).verify(token);
  }
}
