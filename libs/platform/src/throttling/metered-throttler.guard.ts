import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  ThrottlerLimitDetail,
  ThrottlerModuleOptions,
  ThrottlerStorage,
} from '@nestjs/throttler';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MetricsService } from '../metrics/metrics.service';

/**
 * What every refused request gets: `Retry-After` in whole seconds (at least 1)
 * and one count on portcullis_throttled_requests_total{route}. For code that
 * refuses requests outside a guard as well.
 */
export function markThrottled(
  reply: Pick<FastifyReply, 'header'>,
  metrics: MetricsService,
  route: string,
  retryAfterSeconds: number,
): void {
  void reply.header('Retry-After', String(Math.max(1, Math.ceil(retryAfterSeconds))));
  metrics.throttled.inc({ app: metrics.app, route });
}

/**
 * @nestjs/throttler's guard plus markThrottled on every 429. Use it in place of
 * ThrottlerGuard (APP_GUARD or @UseGuards) next to ThrottlerModule.forRoot[Async].
 * With several named throttlers a request is counted against each in turn until
 * one refuses it.
 */
@Injectable()
export class MeteredThrottlerGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly metrics: MetricsService,
  ) {
    super(options, storage, reflector);
  }

  protected override async throwThrottlingException(
    context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    const http = context.switchToHttp();
    const route = http.getRequest<FastifyRequest>().routeOptions?.url ?? 'unmatched';
    markThrottled(http.getResponse<FastifyReply>(), this.metrics, route, detail.timeToBlockExpire);
    return super.throwThrottlingException(context, detail);
  }
}
