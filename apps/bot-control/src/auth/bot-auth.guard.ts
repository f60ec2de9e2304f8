import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Public } from '@portcullis/auth';
import type { FastifyRequest } from 'fastify';
import { BotAuthService } from './bot-auth.service';
import { BotRoute } from './bot-route.decorator';

/**
 * The one global guard of bot-control. Every HTTP route either names what it
 * does (@BotRoute) or opts out with @Public(); an unmarked route is refused.
 */
@Injectable()
export class BotAuthGuard implements CanActivate {
  constructor(private readonly reflector: Reflector, private readonly auth: BotAuthService) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride(Public, targets)) return true;
    const kind = this.reflector.getAllAndOverride(BotRoute, targets);
    const req = ctx.switchToHttp().getRequest<FastifyRequest & { rawBody?: Buffer }>();
    if (!kind) throw new UnauthorizedException({ detail: 'unauthorized' });
    const decision = await this.auth.check(kind, {
      method: req.method,
      pathWithQuery: req.url,
      headers: req.headers,
      body: req.rawBody,
      route: req.routeOptions?.url ?? 'unmatched',
      clientIp: req.ip,
      requestId: String(req.id),
    });
    if (!decision.allowed) throw new UnauthorizedException({ detail: 'unauthorized' });
    return true;
  }
}
