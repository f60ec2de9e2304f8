import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { AdminKeySource, StaticAdminKeySource } from '@portcullis/auth';
import { DetailExceptionFilter, PlatformModule } from '@portcullis/platform';
import { GatewayAuthGuard } from './auth/gateway-auth.guard';
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
    return { module: RoomGatewayConfigModule, global: true, providers: [{ provide: RoomGatewayConfig, useValue: cfg }], exports: [RoomGatewayConfig] };
  }
}

@Module({})
export class RoomGatewayModule {
  static forRoot(cfg: RoomGatewayConfig, opts: AppModuleOptions = {}): DynamicModule {
    return {
      module: RoomGatewayModule,
      imports: [
        PlatformModule.forRoot({ app: cfg.app, logLevel: cfg.logLevel, logStream: opts.logStream, natsUrl: cfg.natsUrl, natsKvReplicas: cfg.natsKvReplicas, readiness: signalingReadiness(cfg.signaling) }),
        RoomGatewayConfigModule.forRoot(cfg),
        ByokModule,
        SignalingModule.forRoot(cfg.app, cfg.signaling, opts.adminKeySource ?? new StaticAdminKeySource({ current: cfg.adminKey })),
      ],
      controllers: [DocsController],
      providers: [
        { provide: APP_GUARD, useClass: GatewayAuthGuard },
        { provide: APP_FILTER, useClass: DetailExceptionFilter },
      ],
    };
  }
}
