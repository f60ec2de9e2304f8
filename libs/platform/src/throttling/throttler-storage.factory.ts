import type { ThrottlerStorage } from '@nestjs/throttler';
import type { NatsConnectionService } from '../messaging/nats-connection.service';
import { JetStreamThrottlerStorage } from './jetstream-throttler.storage';
import { MemoryThrottlerStorage } from './memory-throttler.storage';

/**
 * The storage an app should use: shared through JetStream whenever NATS is
 * configured, in memory only for the single-process runner without NATS.
 * The bucket joins the app's readiness and is re-bound after reconnects.
 *
 *   ThrottlerModule.forRootAsync({
 *     inject: [NatsConnectionService],
 *     useFactory: (nats) => ({ throttlers: [...], storage: createThrottlerStorage(nats, KvBuckets.x, 60_000) }),
 *   })
 */
export function createThrottlerStorage(
  nats: NatsConnectionService,
  bucket: string,
  maxAgeMs: number,
): ThrottlerStorage {
  if (!nats.enabled) return new MemoryThrottlerStorage();
  const storage = new JetStreamThrottlerStorage(() => nats.connectedNow(), bucket, maxAgeMs, {
    replicas: nats.kvReplicas,
  });
  // Bound again after every reconnect, and probed by readiness: the app's requests cannot pass without it.
  nats.track(storage.kv);
  return storage;
}
