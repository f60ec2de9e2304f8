import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Observable, finalize } from 'rxjs';
import { MetricsService } from './metrics.service';

/** Request latency by route pattern (bounded), measured around the handler. */
@Injectable()
export class HttpMetricsInterceptor implements NestInterceptor {
  constructor(private readonly metrics: MetricsService) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (ctx.getType() !== 'http') return next.handle();
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    const reply = ctx.switchToHttp().getResponse<FastifyReply>();
    const end = this.metrics.httpDuration.startTimer();
    return next.handle().pipe(
      finalize(() =>
        end({
          app: this.metrics.app,
          method: req.method,
          route: req.routeOptions?.url ?? 'unmatched',
          status: String(reply.statusCode),
        }),
      ),
    );
  }
}
