import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import {
  AdminKeySource,
  AdminKeyStrategy,
  AuthModule,
  DeviceTokenStrategy,
  DeviceTokenVerifier,
  ProviderKeyStrategy,
  StaticAdminKeySource,
  StrategyFactory,
} from '@portcullis/auth';
import { DetailExceptionFilter, PlatformModule } from '@portcullis/platform';
import { DEFAULT_PROVIDER, ProviderRegistry } from './byok/providers/provider.registry';
import { ByokModule } from './byok/byok.module';
import { SignalingModule } from './signaling/signaling.module';
import { signalingReadiness } from './signaling/signaling.readiness';
import { DocsController } from './docs/docs.controller';
import { RoomGatewayConfig } from './config';

export interface AppModuleOptions {
  logStream?: NodeJS.WritableStream;
  /** Where the operator routes' admin key comes from; the all-in-one runner passes its hot-reloaded config-file source. */
  adminKeySource?: AdminKeySource;
}

/** Holds the config for every feature module of the app. */
@Module({})
class RoomGatewayConfigModule {
  static forRoot(cfg: RoomGatewayConfig): DynamicModule {
    return {
      module: RoomGatewayConfigModule,
      global: true,
      providers: [{ provide: RoomGatewayConfig, useValue: cfg }],
      exports: [RoomGatewayConfig],
    };
  }
}

/** Provider keys (BYOK), the operator's admin key, and device tokens when signaling is on. */
function strategies(cfg: RoomGatewayConfig): StrategyFactory[] {
  return [
    (get) =>
      new ProviderKeyStrategy({
        providers: get(ProviderRegistry),
        defaultProvider: DEFAULT_PROVIDER,
        pepper: cfg.keyPepper,
      }),
    (get) => new AdminKeyStrategy(get(AdminKeySource)),
    ...(cfg.signaling
      ? [(get: <T>(t: unknown) => T) => new DeviceTokenStrategy({ verifier: get(DeviceTokenVerifier) })]
      : []),
  ];
}

@Module({})
export class RoomGatewayModule {
  static forRoot(cfg: RoomGatewayConfig, opts: AppModuleOptions = {}): DynamicModule {
    return {
      module: RoomGatewayModule,
      imports: [
        PlatformModule.forRoot({
          app: cfg.app,
          logLevel: cfg.logLevel,
          logStream: opts.logStream,
          natsUrl: cfg.natsUrl,
          natsKvReplicas: cfg.natsKvReplicas,
          readiness: signalingReadiness(cfg.signaling),
        }),
        RoomGatewayConfigModule.forRoot(cfg),
        ByokModule,
        SignalingModule.forRoot(cfg.signaling),
        AuthModule.forRoot({ strategies: strategies(cfg) }),
      ],
      controllers: [DocsController],
      providers: [
        // The operator routes' key (/admin/signaling/rooms); a source with no key refuses every call.
        {
          provide: AdminKeySource,
          useValue: opts.adminKeySource ?? new StaticAdminKeySource({ current: cfg.adminKey }),
        },
        { provide: APP_FILTER, useClass: DetailExceptionFilter },
      ],
    };
  }
}
