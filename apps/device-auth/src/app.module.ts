import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AdminKeySource, AuthModule, StaticAdminKeySource } from '@portcullis/auth';
import {
  DetailExceptionFilter,
  PlatformModule,
  READINESS_CHECKS,
  ReadinessCheck,
  runMigrations,
} from '@portcullis/platform';
import { DataSource, DataSourceOptions } from 'typeorm';
import { AdminModule } from './admin/admin.module';
import { deviceAuthStrategies } from './auth/device-registry';
import { DeviceAuthConfig } from './config';
import { DeviceAuthCoreModule } from './core.module';
import { DEVICE_AUTH_MIGRATION_LOCK, deviceAuthDataSourceOptions } from './database/data-source';
import { DevicesModule } from './devices/devices.module';
import { RevocationModule } from './revocation/revocation.module';
import { deviceAuthThrottling } from './throttling';
import { TokensModule } from './tokens/tokens.module';
import { VapiModule } from './vapi/vapi.module';

export interface AppModuleOptions {
  logStream?: NodeJS.WritableStream;
  /** Where the admin key comes from; the all-in-one runner passes its hot-reloaded config-file source. */
  adminKeySource?: AdminKeySource;
}

@Module({})
export class DeviceAuthModule {
  static forRoot(cfg: DeviceAuthConfig, opts: AppModuleOptions = {}): DynamicModule {
    return {
      module: DeviceAuthModule,
      imports: [
        PlatformModule.forRoot({
          app: cfg.app,
          logLevel: cfg.logLevel,
          logStream: opts.logStream,
          natsUrl: cfg.natsUrl,
          natsKvReplicas: cfg.natsKvReplicas,
          readiness: {
            provide: READINESS_CHECKS,
            inject: [DataSource],
            useFactory: (ds: DataSource): ReadinessCheck[] => [
              // Bounded by the pool's connect and statement timeouts; the pool reconnects by itself.
              { name: 'postgres', isReady: async () => Boolean(await ds.query('SELECT 1')) },
            ],
          },
        }),
        TypeOrmModule.forRootAsync({
          useFactory: () => ({
            ...deviceAuthDataSourceOptions(cfg.databaseUrl, {
              connectTimeoutMs: cfg.dbConnectTimeoutMs,
              queryTimeoutMs: cfg.dbQueryTimeoutMs,
            }),
            retryAttempts: 3,
            retryDelay: 1000,
          }),
          dataSourceFactory: async (options) => {
            const ds = await new DataSource(options as DataSourceOptions).initialize();
            if (cfg.migrateOnStart) await runMigrations(ds, DEVICE_AUTH_MIGRATION_LOCK);
            return ds;
          },
        }),
        deviceAuthThrottling(cfg),
        DeviceAuthCoreModule.forRoot(cfg),
        DevicesModule,
        TokensModule,
        RevocationModule,
        AdminModule,
        VapiModule,
        AuthModule.forRoot({ strategies: deviceAuthStrategies }),
      ],
      providers: [
        {
          provide: AdminKeySource,
          useValue:
            opts.adminKeySource ?? new StaticAdminKeySource({ current: cfg.adminKey, previous: cfg.adminKeyPrevious }),
        },
        { provide: APP_FILTER, useClass: DetailExceptionFilter },
      ],
    };
  }
}
