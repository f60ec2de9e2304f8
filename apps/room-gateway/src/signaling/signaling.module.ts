import { DynamicModule, Injectable, Logger, Module, OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DeviceTokenModule } from '@portcullis/auth';
import { EVENTS_CLIENT, NatsConnectionService, runMigrations } from '@portcullis/platform';
import { DataSource, DataSourceOptions } from 'typeorm';
import { SignalingConfig } from '../config';
import { ROOM_GATEWAY_MIGRATION_LOCK, roomGatewayDataSourceOptions } from '../database/data-source';
import { SignalingAdminController } from './signaling-admin.controller';
import { SignalingController, SignalingRevocationListener } from './signaling.controller';
import { SignalingPublisher } from './signaling.publisher';
import { SignalingRelay } from './signaling.relay';
import { SignalingRoomsService } from './signaling-rooms.service';
import { SIGNALING_CONFIG } from './signaling.tokens';

/** Says once, in the app's log, why the signaling routes are absent or how room tokens are keyed. */
@Injectable()
class SignalingNotice implements OnModuleInit {
  constructor(
    private readonly level: 'log' | 'warn',
    private readonly text: string,
  ) {}
  onModuleInit(): void {
    new Logger('Signaling')[this.level](this.text);
  }
}

const notice = (level: 'log' | 'warn', text: string) => ({
  provide: SignalingNotice,
  useFactory: () => new SignalingNotice(level, text),
});

/**
 * Signaling: rooms, room tokens, memberships (Postgres) and the WS relay, all behind
 * device tokens from device-auth. Without DATABASE_URL the app runs the BYOK half only.
 */
@Module({})
export class SignalingModule {
  static forRoot(cfg: SignalingConfig | undefined): DynamicModule {
    if (!cfg)
      return {
        module: SignalingModule,
        providers: [notice('log', 'signaling rooms disabled: DATABASE_URL is not set (BYOK rooms only)')],
      };
    const keyNotice = cfg.roomTokenKeyGenerated
      ? notice(
          'warn',
          'ROOM_TOKEN_SIGNING_KEY not set: room tokens are signed with a per-process key and die with this process',
        )
      : notice('log', 'signaling rooms enabled');
    return {
      module: SignalingModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => ({ ...roomGatewayDataSourceOptions(cfg.databaseUrl), retryAttempts: 3, retryDelay: 1000 }),
          dataSourceFactory: async (options) => {
            const ds = await new DataSource(options as DataSourceOptions).initialize();
            if (cfg.migrateOnStart) await runMigrations(ds, ROOM_GATEWAY_MIGRATION_LOCK);
            return ds;
          },
        }),
        DeviceTokenModule.forRoot({
          jwksUrl: `${cfg.deviceAuthUrl}/.well-known/jwks.json`,
          issuer: cfg.issuer,
          audience: cfg.audience,
          client: EVENTS_CLIENT,
          nats: NatsConnectionService,
        }),
      ],
      controllers: [SignalingController, SignalingAdminController, SignalingRevocationListener],
      providers: [
        { provide: SIGNALING_CONFIG, useValue: cfg },
        keyNotice,
        SignalingRelay,
        SignalingPublisher,
        SignalingRoomsService,
      ],
    };
  }
}
