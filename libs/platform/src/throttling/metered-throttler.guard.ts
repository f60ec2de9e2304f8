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
import {
  THROTTLER_BLOCK_DURATION,
  THROTTLER_KEY_GENERATOR,
  THROTTLER_LIMIT,
  THROTTLER_SKIP,
  THROTTLER_TRACKER,
  THROTTLER_TTL,
} from '@nestjs/throttler/dist/throttler.constants';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MetricsService } from '../metrics/metrics.service';

/**
 * What every refused request gets: `Retry-After` in whole seconds (at least 1)
 * and one count on portcullis_throttled_requests_total{route}. For code that
 * refuses requests outside a guard as well.
 */
export function markThrottled(reply: Pick<FastifyReply, 'header'>, metrics: MetricsService, route: string, retryAfterSeconds: number): void {
  void reply.header('Retry-After', String(Math.max(1, Math.ceil(retryAfterSeconds))));
  metrics.throttled.inc({ app: metrics.app, route });
}

const THROTTLED = Symbol('throttled');

type Resolvable<T> = T | ((context: ExecutionContext) => T | Promise<T>);

/**
 * @nestjs/throttler's guard plus markThrottled on every 429. Use it in place of
 * ThrottlerGuard (APP_GUARD or @UseGuards) next to ThrottlerModule.forRoot[Async].
 *
 * It counts a request against every named throttler at once rather than one
 * after another: with limits shared over NATS each count is a round trip, and
 * two in sequence doubled the latency a rate-limited route adds. A request over
 * any limit is refused (the first refusal is thrown); it still counts against
 * the others, which only ever errs towards refusing.
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

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (await this.shouldSkip(context)) return true;
    const targets = [context.getHandler(), context.getClass()];
    const meta = <T>(key: string, name: string): T | undefined => this.reflector.getAllAndOverride<T>(key + name, targets);
    const value = async (v: Resolvable<number | string | undefined>, option: string, name: string): Promise<number> => {
      const raw = typeof v === 'function' ? await v(context) : v;
      const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
      if (typeof n !== 'number' || Number.isNaN(n)) throw new Error(`Invalid "${option}" for the "${name}" throttler: expected a number, got ${JSON.stringify(raw)}.`);
      return n;
    };
    const checks = this.throttlers.map(async (throttler) => {
      const name = throttler.name ?? 'default';
      const skipIf = throttler.skipIf ?? this.commonOptions.skipIf;
      if (meta<boolean>(THROTTLER_SKIP, name) || skipIf?.(context)) return true;
      const limit = await value(meta(THROTTLER_LIMIT, name) ?? throttler.limit, 'limit', name);
      const ttl = await value(meta(THROTTLER_TTL, name) ?? throttler.ttl, 'ttl', name);
      const blockDuration = await value(meta(THROTTLER_BLOCK_DURATION, name) ?? throttler.blockDuration ?? ttl, 'blockDuration', name);
      return this.handleRequest({
        context,
        limit,
        ttl,
        throttler,
        blockDuration,
        getTracker: meta(THROTTLER_TRACKER, name) ?? throttler.getTracker ?? this.commonOptions.getTracker!,
        generateKey: meta(THROTTLER_KEY_GENERATOR, name) ?? throttler.generateKey ?? this.commonOptions.generateKey!,
      });
    });
    const results = await Promise.allSettled(checks);
    const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (refused) throw refused.reason;
    return results.every((r) => (r as PromiseFulfilledResult<boolean>).value);
  }

  protected override async throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const http = context.switchToHttp();
    const req = http.getRequest<FastifyRequest & { [THROTTLED]?: boolean }>();
    // Over two limits at once is still one refused request.
    if (!req[THROTTLED]) {
      req[THROTTLED] = true;
      markThrottled(http.getResponse<FastifyReply>(), this.metrics, req.routeOptions?.url ?? 'unmatched', detail.timeToBlockExpire);
    }
    return super.throwThrottlingException(context, detail);
  }
}
