import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AdminKeyGuard, AuditLog, bearerToken, DEVICE_PRINCIPAL_KEY, Public, RouteMetadata, TokenRejected, UNAUTHORIZED_BODY, VerifiedDevice } from '@portcullis/auth';
import { MetricsService } from '@portcullis/platform';
import { isPostgresOutage, postgresUnavailable } from '../database/outage';
import { TokensService } from '../tokens/tokens.service';
import { AdminRoute, TokenSuffices } from './routes';

/** Set next to the principal: the registry row the token belongs to. */
export const DEVICE_ROW_KEY = 'deviceRow';

/**
 * device-auth's one global guard: @Public() routes pass, @AdminRoute() routes
 * need the admin key, every other route needs a device token that the
 * registry still honours. Refusals are a fixed 401; reasons go to the audit trail.
 *
 * A registry that cannot be read is not a bad credential: such a request is
 * answered 503 with Retry-After, except on @TokenSuffices() routes, which go on
 * with the token alone (signature, expiry, this replica's revocation floors).
 */
@Injectable()
export class DeviceAuthGuard implements CanActivate {
  private readonly routes = new RouteMetadata((handler, cls) => ({
    open: Boolean(this.reflector.getAllAndOverride(Public, [handler, cls])),
    admin: Boolean(this.reflector.getAllAndOverride(AdminRoute, [handler, cls])),
    tokenSuffices: Boolean(this.reflector.getAllAndOverride(TokenSuffices, [handler, cls])),
  }));

  constructor(
    private readonly reflector: Reflector,
    private readonly admin: AdminKeyGuard,
    private readonly tokens: TokensService,
    private readonly audit: AuditLog,
    private readonly metrics: MetricsService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const { open, admin, tokenSuffices } = this.routes.of(ctx);
    if (open) return true;
    if (ctx.getType() !== 'http') throw new UnauthorizedException(UNAUTHORIZED_BODY);
    if (admin) return this.admin.canActivate(ctx);
    const req = ctx.switchToHttp().getRequest<{ headers: Record<string, string | string[] | undefined>; ip?: string; routeOptions?: { url?: string } } & Record<string, unknown>>();
    const action = `${req.routeOptions?.url ?? 'unmatched'}`;
    let principal: VerifiedDevice | undefined;
    try {
      principal = await this.tokens.verifyToken(bearerToken(req.headers.authorization));
      req[DEVICE_ROW_KEY] = await this.tokens.checkRegistry(principal);
      req[DEVICE_PRINCIPAL_KEY] = principal;
      this.metrics.authDecision(action, 'allow', 'ok');
      return true;
    } catch (err) {
      if (principal && isPostgresOutage(err)) {
        if (!tokenSuffices) throw postgresUnavailable(err);
        req[DEVICE_PRINCIPAL_KEY] = principal;
        this.metrics.authDecision(action, 'allow', 'registry_unavailable');
        return true;
      }
      const reason = err instanceof TokenRejected ? err.reason : 'verifier_error';
      this.metrics.authDecision(action, 'deny', reason);
      // Audit log only: a flood of bad tokens must not grow the database.
      this.audit.record({ action, decision: 'deny', reason, client_ip: req.ip });
      throw new UnauthorizedException(UNAUTHORIZED_BODY);
    }
  }
}
