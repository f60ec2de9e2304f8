import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Public, RouteMetadata } from '@portcullis/auth';
import type { FastifyRequest } from 'fastify';
import { CREDENTIAL, ProviderKeyRoute, RequestWithCredential } from '../byok/provider-credential';
import { ProviderKeyService } from '../byok/provider-key.service';
import { AdminKeyMarked } from './admin-key-route';

/**
 * The one global guard of room-gateway. Every HTTP route names how its caller
 * authenticates (@ProviderKeyRoute for BYOK rooms, @AdminKeyRoute for the operator's
 * signaling routes, whose own guard then checks the admin key) or opts out with @Public()
 * (signaling's device-token routes do, behind their own guard); an unmarked route is refused.
 */
@Injectable()
export class GatewayAuthGuard implements CanActivate {
  private readonly routes = new RouteMetadata((handler, cls) => {
    const targets = [handler, cls];
    if (this.reflector.getAllAndOverride(Public, targets) || this.reflector.getAllAndOverride(AdminKeyMarked, targets)) return 'open';
    return this.reflector.getAllAndOverride(ProviderKeyRoute, targets) ? 'provider-key' : 'unmarked';
  });

  constructor(private readonly reflector: Reflector, private readonly providerKeys: ProviderKeyService) {}

  canActivate(ctx: ExecutionContext): boolean {
    if (ctx.getType() !== 'http') return true;
    const route = this.routes.of(ctx);
    if (route === 'open') return true;
    const req = ctx.switchToHttp().getRequest<FastifyRequest & RequestWithCredential>();
    if (route === 'provider-key') {
      req[CREDENTIAL] = this.providerKeys.authenticate(req.headers, {
        route: req.routeOptions?.url ?? 'unmatched',
        clientIp: req.ip,
        requestId: String(req.id),
      });
      return true;
    }
    throw new UnauthorizedException({ detail: 'unauthorized' });
  }
}
