import { DynamicModule, Global, Module } from '@nestjs/common';
import { AuditLog } from '@portcullis/auth';
import { DeviceAuthConfig } from './config';

/** What every feature module of device-auth reads: its configuration and its audit log. */
@Global()
@Module({})
export class DeviceAuthCoreModule {
  static forRoot(cfg: DeviceAuthConfig): DynamicModule {
    return {
      module: DeviceAuthCoreModule,
      providers: [
        { provide: DeviceAuthConfig, useValue: cfg },
        { provide: AuditLog, useValue: new AuditLog(cfg.app) },
      ],
      exports: [DeviceAuthConfig, AuditLog],
    };
  }
}
