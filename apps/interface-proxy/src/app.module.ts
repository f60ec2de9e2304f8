import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import {
  AdminKeySource,
  AuthModule,
  DashboardSessionStrategy,
  DeviceTokenModule,
  DeviceTokenStrategy,
  DeviceTokenVerifier,
  OidcStrategy,
  StrategyFactory,
} from '@portcullis/auth';
import {
  DetailExceptionFilter,
  EVENTS_CLIENT,
  MetricsService,
  NatsConnectionService,
  PlatformModule,
} from '@portcullis/platform';
import { BotProxyModule } from './bot/bot-proxy.module';
import { InterfaceProxyConfig } from './config';
import { DashboardModule } from './dashboard/dashboard.module';
import { DashboardSessions } from './dashboard/dashboard-sessions';
import { CSRF_HEADER, SESSION_COOKIE } from './dashboard/request-checks';

export interface AppModuleOptions {
  logStream?: NodeJS.WritableStream;
  /** Where the dashboard reads the admin key (default: PORTCULLIS_ADMIN_API_KEY, fixed at boot); the runner passes its hot-reloaded one. */
  adminKeySource?: AdminKeySource;
}

/** Holds the config for every feature module of the app. */
@Module({})
class InterfaceProxyConfigModule {
  static forRoot(cfg: InterfaceProxyConfig): DynamicModule {
    return {
      module: InterfaceProxyConfigModule,
      global: true,
      providers: [{ provide: InterfaceProxyConfig, useValue: cfg }],
      exports: [InterfaceProxyConfig],
    };
  }
}

/**
 * Callers of /api/bot: device tokens (with DEVICE_AUTH_URL), then tokens of the OIDC
 * issuer; with INTERFACE_AUTH_REQUIRED unset neither is configured and the routes are
 * open. The dashboard's session, when the dashboard is on.
 */
function strategies(cfg: InterfaceProxyConfig): StrategyFactory[] {
  const list: StrategyFactory[] = [];
  if (cfg.deviceTokens) list.push((get) => new DeviceTokenStrategy({ verifier: get(DeviceTokenVerifier) }));
  if (cfg.callerAuth || !cfg.deviceTokens) list.push(() => new OidcStrategy(cfg.callerAuth));
  if (cfg.dashboard)
    list.push(
      (get) =>
        new DashboardSessionStrategy({
          sessions: get<DashboardSessions>(DashboardSessions),
          cookie: SESSION_COOKIE,
          csrfHeader: CSRF_HEADER,
        }),
    );
  return list;
}

@Module({})
export class InterfaceProxyModule {
  static forRoot(cfg: InterfaceProxyConfig, opts: AppModuleOptions = {}): DynamicModule {
    return {
      module: InterfaceProxyModule,
      imports: [
        PlatformModule.forRoot({
          app: cfg.app,
          logLevel: cfg.logLevel,
          logStream: opts.logStream,
          natsUrl: cfg.natsUrl,
        }),
        InterfaceProxyConfigModule.forRoot(cfg),
        BotProxyModule,
        ...(cfg.dashboard ? [DashboardModule.forRoot(cfg, cfg.dashboard, opts.adminKeySource)] : []),
        ...(cfg.deviceTokens
          ? [
              DeviceTokenModule.forRoot({
                ...cfg.deviceTokens,
                client: EVENTS_CLIENT,
                nats: NatsConnectionService,
                metrics: MetricsService,
              }),
            ]
          : []),
        AuthModule.forRoot({ strategies: strategies(cfg) }),
      ],
      providers: [{ provide: APP_FILTER, useClass: DetailExceptionFilter }],
    };
  }
}
