import type { ThrottlerStorage } from '@nestjs/throttler';
import type { NatsConnectionService } from '../messaging/nats-connection.service';
import { JetStreamThrottlerStorage } from './jetstream-throttler.storage';
import { MemoryThrottlerStorage } from './memory-throttler.storage';

/**
 * The storage an app should use: shared through JetStream whenever NATS is
 * configured, in memory only for the single-process runner without NATS.
 *
 *   ThrottlerModule.forRootAsync({
 *     inject: [NatsConnectionService],
 *     useFactory: (nats) => ({ throttlers: [...], storage: createThrottlerStorage(nats, KvBuckets.x, 60_000) }),
 *   })
 */
export function createThrottlerStorage(nats: NatsConnectionService, bucket: string, maxAgeMs: number): ThrottlerStorage {
  return nats.enabled
    ? new JetStreamThrottlerStorage(() => nats.connectedNow(), bucket, maxAgeMs)
    : new MemoryThrottlerStorage();
}
