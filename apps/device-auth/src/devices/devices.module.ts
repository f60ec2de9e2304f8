import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DeviceAuthConfig } from '../config';
import { AuthAttempt } from '../database/auth-attempt.entity';
import { Device } from '../database/device.entity';
import { LocalRevocations } from '../revocation/local-revocations';
import { RevocationPublisher } from '../revocation/revocation.publisher';
import { AttemptsRetention } from './attempts-retention';
import { DevicesService } from './devices.service';
import { SecretHasher } from './secret-hasher';

/**
 * The device registry (Postgres): devices, their hashed secrets and the sign-in
 * attempt counts. A revocation here also raises this replica's local floor and
 * is broadcast to every verifier, so those two live with the registry.
 */
@Module({
  imports: [TypeOrmModule.forFeature([Device, AuthAttempt])],
  providers: [
    {
      provide: SecretHasher,
      inject: [DeviceAuthConfig],
      useFactory: (cfg: DeviceAuthConfig) => SecretHasher.fromConfig(cfg.pepper, cfg.dataDir),
    },
    DevicesService,
    AttemptsRetention,
    LocalRevocations,
    RevocationPublisher,
  ],
  exports: [DevicesService, LocalRevocations, RevocationPublisher],
})
export class DevicesModule {}
