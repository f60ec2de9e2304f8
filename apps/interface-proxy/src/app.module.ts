import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { AdminKeySource, DeviceTokenModule } from '@portcullis/auth';
import { DetailExceptionFilter, EVENTS_CLIENT, MetricsService, NatsConnectionService, PlatformModule } from '@portcullis/platform';
import { CallerAuthGuard } from './auth/caller-auth.guard';
import { BotProxyModule } from './bot/bot-proxy.module';
import { InterfaceProxyConfig } from './config';
import { DashboardModule } from './dashboard/dashboard.module';

export interface AppModuleOptions {
  logStream?: NodeJS.WritableStream;
  /** Where the dashboard reads the admin key (default: PORTCULLIS_ADMIN_API_KEY, fixed at boot); the runner passes its hot-reloaded one. */
  adminKeySource?: AdminKeySource;
}

/** Holds the config for every feature module of the app. */
@Module({})
class InterfaceProxyConfigModule {
  static forRoot(cfg: InterfaceProxyConfig): DynamicModule {
    return { module: InterfaceProxyConfigModule, global: true, providers: [{ provide: InterfaceProxyConfig, useValue: cfg }], exports: [InterfaceProxyConfig] };
  }
}

@Module({})
export class InterfaceProxyModule {
  static forRoot(cfg: InterfaceProxyConfig, opts: AppModuleOptions = {}): DynamicModule {
    return {
      module: InterfaceProxyModule,
      imports: [
        PlatformModule.forRoot({ app: cfg.app, logLevel: cfg.logLevel, logStream: opts.logStream, natsUrl: cfg.natsUrl }),
        InterfaceProxyConfigModule.forRoot(cfg),
        BotProxyModule,
        ...(cfg.dashboard ? [DashboardModule.forRoot(cfg, cfg.dashboard, opts.adminKeySource)] : []),
        ...(cfg.deviceTokens
          ? [DeviceTokenModule.forRoot({ app: cfg.app, ...cfg.deviceTokens, client: EVENTS_CLIENT, nats: NatsConnectionService, metrics: MetricsService })]
          : []),
      ],
      providers: [
        { provide: APP_GUARD, useClass: CallerAuthGuard },
        { provide: APP_FILTER, useClass: DetailExceptionFilter },
      ],
    };
  }
}
