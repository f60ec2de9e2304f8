import { DynamicModule, Global, Module, Provider } from '@nestjs/common';
import { AUDIT_APP, AuditPublisher } from './audit/audit.publisher';
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

/** What every app gets: logging, messaging, health, metrics, audit events on the bus. */
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
        // Every AuditLog of this app also goes out on Subjects.auditEvent.
        { provide: AUDIT_APP, useValue: opts.app },
        AuditPublisher,
      ],
      exports: [MetricsService, AppLoggerModule, MessagingModule],
    };
  }
}
