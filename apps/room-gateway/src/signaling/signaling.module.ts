import { DynamicModule, Logger, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditLog, DeviceTokenModule } from '@portcullis/auth';
import { EVENTS_CLIENT, NatsConnectionService } from '@portcullis/platform';
import { SignalingConfig } from '../config';
import { roomGatewayDataSourceOptions } from '../database/data-source';
import { SignalingAuthGuard } from './signaling-auth.guard';
import { SignalingController, SignalingRevocationListener } from './signaling.controller';
import { SignalingRelay } from './signaling.relay';
import { SignalingRoomsService } from './signaling-rooms.service';
import { SIGNALING_AUDIT, SIGNALING_CONFIG } from './signaling.tokens';

/**
 * Seed 004 signaling: rooms, room tokens, memberships (Postgres) and the WS relay, all behind
 * device tokens from device-auth. Without DATABASE_URL the app runs the BYOK half only.
 */
@Module({})
export class SignalingModule {
  static forRoot(app: string, cfg: SignalingConfig | undefined): DynamicModule {
    const logger = new Logger('Signaling');
    if (!cfg) {
      logger.log('signaling rooms disabled: DATABASE_URL is not set (BYOK rooms only)');
      return { module: SignalingModule };
    }
    if (cfg.roomTokenKeyGenerated) logger.warn('ROOM_TOKEN_SIGNING_KEY not set: room tokens are signed with a per-process key and die with this process');
    return {
      module: SignalingModule,
      imports: [
        TypeOrmModule.forRoot({ ...roomGatewayDataSourceOptions(cfg.databaseUrl, { migrationsRun: cfg.migrateOnStart }), retryAttempts: 3, retryDelay: 1000 }),
        DeviceTokenModule.forRoot({
          app,
          jwksUrl: `${cfg.deviceAuthUrl}/.well-known/jwks.json`,
          issuer: cfg.issuer,
          audience: cfg.audience,
          client: EVENTS_CLIENT,
          nats: NatsConnectionService,
        }),
      ],
      controllers: [SignalingController, SignalingRevocationListener],
      providers: [
        { provide: SIGNALING_CONFIG, useValue: cfg },
        { provide: SIGNALING_AUDIT, useFactory: () => new AuditLog(app) },
        SignalingAuthGuard,
        SignalingRelay,
        SignalingRoomsService,
      ],
    };
  }
}
