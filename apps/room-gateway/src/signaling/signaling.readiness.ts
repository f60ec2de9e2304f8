import type { Provider } from '@nestjs/common';
import { READINESS_CHECKS, ReadinessCheck } from '@portcullis/platform';
import { DataSource } from 'typeorm';
import type { SignalingConfig } from '../config';

/**
 * room-gateway's readiness: nothing of its own for BYOK; with signaling, its Postgres. Not device-auth's
 * revocation snapshot: readiness gates BYOK traffic too, which must not depend on device-auth being up
 * (until the snapshot arrives, signaling calls answer 401, as every verifier does).
 */
export function signalingReadiness(cfg: SignalingConfig | undefined): Provider | undefined {
  if (!cfg) return undefined;
  return {
    provide: READINESS_CHECKS,
    inject: [DataSource],
    useFactory: (ds: DataSource): ReadinessCheck[] => [
      { name: 'postgres', isReady: async () => Boolean(await ds.query('SELECT 1')) },
    ],
  };
}
