import { Controller, Get, Inject, Optional } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { Public } from '../auth-boundary/public.decorator';
import { NatsConnectionService } from '../messaging/nats-connection.service';

/** An app-specific readiness dependency (a database, say). */
export interface ReadinessCheck {
  readonly name: string;
  isReady(): Promise<boolean>;
}
export const READINESS_CHECKS = Symbol('READINESS_CHECKS');
export const APP_NAME = Symbol('APP_NAME');

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly nats: NatsConnectionService,
    @Inject(APP_NAME) private readonly app: string,
    @Optional() @Inject(READINESS_CHECKS) private readonly checks: ReadinessCheck[] = [],
  ) {}

  /** Liveness: the process answers. Never depends on anything else. */
  @Public()
  @Get()
  live(): { status: 'healthy'; app: string } {
    return { status: 'healthy', app: this.app };
  }

  /**
   * Readiness: NATS (when configured) and the app's own dependencies. For NATS
   * a connected socket is not enough: every key-value bucket the app's requests
   * need (rate limits, nonces) must be bound and answer a read.
   */
  @Public()
  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    const natsCheck = async () => {
      const i = this.indicators.check('nats');
      if (!this.nats.enabled) return i.up({ transport: 'in-process' });
      if (!this.nats.isConnected()) return i.down({ transport: 'nats', connected: false });
      const buckets = this.nats.trackedBuckets;
      const probed = await Promise.all(buckets.map(async (b) => [b.name, (await b.probe()) ? 'up' : 'down'] as const));
      const state = Object.fromEntries(probed);
      return probed.every(([, s]) => s === 'up')
        ? i.up({ transport: 'nats', buckets: state })
        : i.down({ transport: 'nats', buckets: state });
    };
    const own = (this.checks ?? []).map((c) => async () => {
      const i = this.indicators.check(c.name);
      return (await c.isReady().catch(() => false)) ? i.up() : i.down();
    });
    return this.health.check([natsCheck, ...own]);
  }
}
