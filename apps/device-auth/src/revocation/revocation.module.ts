import { Module } from '@nestjs/common';
import { DevicesModule } from '../devices/devices.module';
import { LocalRevocationsLoader } from './local-revocations.loader';
import { RevocationController, RevocationSnapshotResponder } from './revocation.controller';

/**
 * Revocation state for verifiers: snapshots on request (NATS and in-process),
 * other replicas' revocations applied to this one's floors, and the periodic
 * reload of the floors from the registry.
 */
@Module({
  imports: [DevicesModule],
  controllers: [RevocationController],
  providers: [RevocationSnapshotResponder, LocalRevocationsLoader],
})
export class RevocationModule {}
