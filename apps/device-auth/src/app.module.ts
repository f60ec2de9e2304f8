import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AdminKeySource, AuditLog, AuthModule, StaticAdminKeySource } from '@portcullis/auth';
import { DetailExceptionFilter, PlatformModule, READINESS_CHECKS, ReadinessCheck } from '@portcullis/platform';
import { DataSource, DataSourceOptions } from 'typeorm';
import { AdminController } from './admin/admin.controller';
import { deviceAuthStrategies } from './auth/device-registry';
import { DeviceAuthConfig } from './config';
import { AuthAttempt } from './database/auth-attempt.entity';
import { deviceAuthDataSourceOptions, runMigrationsLocked } from './database/data-source';
import { Device } from './database/device.entity';
import { PostgresOutageInterceptor } from './database/outage';
import { DeviceController } from './devices/device.controller';
import { AttemptsRetention } from './devices/attempts-retention';
import { DevicesService } from './devices/devices.service';
import { SecretHasher } from './devices/secret-hasher';
import { JwksController } from './keys/jwks.controller';
import { KeyRing } from './keys/key-ring';
import { RevocationController, RevocationSnapshotResponder } from './revocation/revocation.controller';
import { LocalRevocations } from './revocation/local-revocations';
import { LocalRevocationsLoader } from './revocation/local-revocations.loader';
import { RevocationPublisher } from './revocation/revocation.publisher';
import { deviceAuthThrottling, SignInLimits } from './throttling';
import { TokensService } from './tokens/tokens.service';
import { VapiClient } from './vapi/vapi.client';
import { VapiController } from './vapi/vapi.controller';

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
            ...deviceAuthDataSourceOptions(cfg.databaseUrl, { connectTimeoutMs: cfg.dbConnectTimeoutMs, queryTimeoutMs: cfg.dbQueryTimeoutMs }),
            retryAttempts: 3,
            retryDelay: 1000,
          }),
          dataSourceFactory: async (options) => {
            const ds = await new DataSource(options as DataSourceOptions).initialize();
            if (cfg.migrateOnStart) await runMigrationsLocked(ds);
            return ds;
          },
        }),
        TypeOrmModule.forFeature([Device, AuthAttempt]),
        deviceAuthThrottling(cfg),
        AuthModule.forRoot({ app: cfg.app, strategies: deviceAuthStrategies }),
      ],
      controllers: [DeviceController, AdminController, JwksController, VapiController, RevocationController],
      providers: [
        { provide: DeviceAuthConfig, useValue: cfg },
        { provide: AuditLog, useValue: new AuditLog(cfg.app) },
        {
          provide: AdminKeySource,
          useValue: opts.adminKeySource ?? new StaticAdminKeySource({ current: cfg.adminKey, previous: cfg.adminKeyPrevious }),
        },
        { provide: SecretHasher, useFactory: () => SecretHasher.fromConfig(cfg.pepper, cfg.dataDir) },
        {
          provide: KeyRing,
          useFactory: () =>
            KeyRing.fromConfig({
              signingKeyPem: cfg.signingKeyPem,
              previousKeyPems: cfg.previousKeyPems,
              dataDir: cfg.dataDir,
              maxTokenLifetimeSeconds: cfg.tokenTtlSeconds,
            }),
        },
        RevocationPublisher,
        RevocationSnapshotResponder,
        LocalRevocations,
        LocalRevocationsLoader,
        DevicesService,
        AttemptsRetention,
        SignInLimits,
        TokensService,
        VapiClient,
        { provide: APP_FILTER, useClass: DetailExceptionFilter },
        { provide: APP_INTERCEPTOR, useClass: PostgresOutageInterceptor },
      ],
    };
  }
}
