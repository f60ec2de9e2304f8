import { DynamicModule, Global, Module } from '@nestjs/common';
import { DeviceAuthConfig } from './config';

/** What every feature module of device-auth reads: its configuration (the audit log is the platform's). */
@Global()
@Module({})
export class DeviceAuthCoreModule {
  static forRoot(cfg: DeviceAuthConfig): DynamicModule {
    return {
      module: DeviceAuthCoreModule,
      providers: [{ provide: DeviceAuthConfig, useValue: cfg }],
      exports: [DeviceAuthConfig],
    };
  }
}
