import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Public, RouteMetadata } from '@portcullis/auth';
import type { FastifyRequest } from 'fastify';
import { AuthDecision, BotAuthService } from './bot-auth.service';
import { BotRoute } from './bot-route.decorator';

function allowedOrThrow(decision: AuthDecision): true {
  if (!decision.allowed) throw new UnauthorizedException({ detail: 'unauthorized' });
  return true;
}

/**
 * The one global guard of bot-control. Every HTTP route either names what it
 * does (@BotRoute) or opts out with @Public(); an unmarked route is refused.
 */
@Injectable()
export class BotAuthGuard implements CanActivate {
  private readonly routes = new RouteMetadata((handler, cls) => ({
    open: Boolean(this.reflector.getAllAndOverride(Public, [handler, cls])),
    kind: this.reflector.getAllAndOverride(BotRoute, [handler, cls]),
  }));

  constructor(private readonly reflector: Reflector, private readonly auth: BotAuthService) {}

  // Not async: with the shared secret the answer is known at once, and Nest awaits only what is a promise.
  canActivate(ctx: ExecutionContext): boolean | Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const { open, kind } = this.routes.of(ctx);
    if (open) return true;
    const req = ctx.switchToHttp().getRequest<FastifyRequest & { rawBody?: Buffer }>();
    if (!kind) throw new UnauthorizedException({ detail: 'unauthorized' });
    const decision = this.auth.check(kind, {
      method: req.method,
      pathWithQuery: req.url,
      headers: req.headers,
      body: req.rawBody,
      route: req.routeOptions?.url ?? 'unmatched',
      clientIp: req.ip,
      requestId: String(req.id),
    });
    return decision instanceof Promise ? decision.then(allowedOrThrow) : allowedOrThrow(decision);
  }
}
