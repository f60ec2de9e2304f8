import type { Provider } from '@nestjs/common';
import { DeviceTokenVerifier } from '@portcullis/auth';
import { READINESS_CHECKS, ReadinessCheck } from '@portcullis/platform';
import { DataSource } from 'typeorm';
import type { SignalingConfig } from '../config';

/** room-gateway's readiness: nothing of its own for BYOK; with signaling, Postgres and the first revocation snapshot. */
export function signalingReadiness(cfg: SignalingConfig | undefined): Provider | undefined {
  if (!cfg) return undefined;
  return {
    provide: READINESS_CHECKS,
    inject: [DataSource, DeviceTokenVerifier],
    useFactory: (ds: DataSource, verifier: DeviceTokenVerifier): ReadinessCheck[] => [
      { name: 'postgres', isReady: async () => Boolean(await ds.query('SELECT 1')) },
      // Until device-auth's revocation snapshot arrived, every device token is refused.
      { name: 'revocations', isReady: async () => verifier.revocations.synced },
    ],
  };
}
