import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AdminKeyGuard, AuditLog, bearerToken, DEVICE_PRINCIPAL_KEY, Public, RouteMetadata, TokenRejected, UNAUTHORIZED_BODY } from '@portcullis/auth';
import { MetricsService } from '@portcullis/platform';
import { TokensService } from '../tokens/tokens.service';
import { AdminRoute } from './routes';

/** Set next to the principal: the registry row the token belongs to. */
export const DEVICE_ROW_KEY = 'deviceRow';

/**
 * device-auth's one global guard: @Public() routes pass, @AdminRoute() routes
 * need the admin key, every other route needs a device token that the
 * registry still honours. Refusals are a fixed 401; reasons go to the audit trail.
 */
@Injectable()
export class DeviceAuthGuard implements CanActivate {
  private readonly routes = new RouteMetadata((handler, cls) => ({
    open: Boolean(this.reflector.getAllAndOverride(Public, [handler, cls])),
    admin: Boolean(this.reflector.getAllAndOverride(AdminRoute, [handler, cls])),
  }));

  constructor(
    private readonly reflector: Reflector,
    private readonly admin: AdminKeyGuard,
    private readonly tokens: TokensService,
    private readonly audit: AuditLog,
    private readonly metrics: MetricsService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const { open, admin } = this.routes.of(ctx);
    if (open) return true;
    if (ctx.getType() !== 'http') throw new UnauthorizedException(UNAUTHORIZED_BODY);
    if (admin) return this.admin.canActivate(ctx);
    const req = ctx.switchToHttp().getRequest<{ headers: Record<string, string | string[] | undefined>; ip?: string; routeOptions?: { url?: string } } & Record<string, unknown>>();
    const action = `${req.routeOptions?.url ?? 'unmatched'}`;
    try {
      const { principal, device } = await this.tokens.verify(bearerToken(req.headers.authorization));
      req[DEVICE_PRINCIPAL_KEY] = principal;
      req[DEVICE_ROW_KEY] = device;
      this.metrics.authDecision(action, 'allow', 'ok');
      return true;
    } catch (err) {
      const reason = err instanceof TokenRejected ? err.reason : 'verifier_error';
      this.metrics.authDecision(action, 'deny', reason);
      // Audit log only: a flood of bad tokens must not grow the database.
      this.audit.record({ action, decision: 'deny', reason, client_ip: req.ip });
      throw new UnauthorizedException(UNAUTHORIZED_BODY);
    }
  }
}
