import { DynamicModule, Global, Module, Provider } from '@nestjs/common';
import { AuditLog } from './audit/audit-log';
import { HealthModule } from './health/health.module';
import { AppLoggerModule } from './logging/logger.module';
import { MessagingModule } from './messaging/messaging.module';
import { MetricsController } from './metrics/metrics.controller';
import { MetricsService } from './metrics/metrics.service';

export interface PlatformOptions {
  app: string;
  logLevel: string;
  logStream?: NodeJS.WritableStream;
  natsUrl?: string;
  /** Copies of each JetStream key-value bucket (NATS_KV_REPLICAS). */
  natsKvReplicas?: number;
  /** A READINESS_CHECKS provider for the app's own dependencies. */
  readiness?: Provider;
}

/** What every app gets: logging, messaging, health, metrics, the audit log. */
@Global()
@Module({})
export class PlatformModule {
  static forRoot(opts: PlatformOptions): DynamicModule {
    return {
      module: PlatformModule,
      imports: [
        AppLoggerModule.forRoot({ app: opts.app, level: opts.logLevel, stream: opts.logStream }),
        MessagingModule.forRoot({ app: opts.app, natsUrl: opts.natsUrl, kvReplicas: opts.natsKvReplicas }),
        HealthModule.forRoot(opts.app, opts.readiness),
      ],
      controllers: [MetricsController],
      providers: [
        { provide: MetricsService, useValue: new MetricsService(opts.app) },
        // The app's one audit log: its log line, its event on the bus, its counter.
        AuditLog,
      ],
      exports: [MetricsService, AuditLog, AppLoggerModule, MessagingModule],
    };
  }
}
