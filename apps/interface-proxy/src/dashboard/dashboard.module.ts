import { DynamicModule, Module } from '@nestjs/common';
import { AdminKeySource, StaticAdminKeySource } from '@portcullis/auth';
import { BotProxyModule } from '../bot/bot-proxy.module';
import { DashboardConfig, InterfaceProxyConfig } from '../config';
import { AssetsController } from './assets.controller';
import { BotsController } from './bots.controller';
import { DashboardSessions } from './dashboard-sessions';
import { DevicesController } from './devices.controller';
import { RoomsController } from './rooms.controller';
import { SessionController } from './session.controller';
import { adminUpstream, DeviceAuthAdmin, RoomGatewayAdmin } from '../upstream/upstream.client';

/**
 * The operator dashboard at /dashboard (docs/apps/interface-proxy.md, "Operator dashboard"). The key source can be
 * handed in, so the all-in-one runner can share its hot-reloaded key with the
 * dashboard as it does with device-auth.
 */
@Module({})
export class DashboardModule {
  static forRoot(cfg: InterfaceProxyConfig, dashboard: DashboardConfig, keySource?: AdminKeySource): DynamicModule {
    return {
      module: DashboardModule,
      imports: [BotProxyModule],
      controllers: [AssetsController, SessionController, DevicesController, BotsController, RoomsController],
      providers: [
        { provide: AdminKeySource, useValue: keySource ?? new StaticAdminKeySource({ current: dashboard.adminKey }) },
        {
          provide: DeviceAuthAdmin,
          inject: [AdminKeySource],
          useFactory: (keys: AdminKeySource) =>
            adminUpstream('device-auth', dashboard.deviceAuthBaseUrl, keys, cfg.botControlTimeoutMs),
        },
        {
          provide: RoomGatewayAdmin,
          inject: [AdminKeySource],
          useFactory: (keys: AdminKeySource) =>
            adminUpstream('room-gateway', dashboard.roomGatewayBaseUrl, keys, cfg.botControlTimeoutMs),
        },
        DashboardSessions,
      ],
    };
  }
}
