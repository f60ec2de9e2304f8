import { ThrottlerModule } from '@nestjs/throttler';
import { createThrottlerStorage, NatsConnectionService } from '@portcullis/platform';
import { DeviceAuthConfig } from './config';

/** Per-device tracker: the device_id in the body. */
export function deviceTracker(req: Record<string, any>): string {
  const id = req.body?.device_id;
  return typeof id === 'string' ? `device:${id.slice(0, 128)}` : 'device:(none)';
}

/** Per-address tracker: req.ip honours X-Forwarded-For only from TRUSTED_PROXIES (bootApp's trustProxy). */
export function addressTracker(req: Record<string, any>): string {
  return `ip:${String(req.ip)}`;
}

/**
 * /device/auth limits (seed 002: 5 per minute), per device and per client
 * address, counted in a JetStream KV bucket shared by every replica.
 */
export function deviceAuthThrottling(cfg: DeviceAuthConfig) {
  const ttl = cfg.rateWindowSeconds * 1000;
  return ThrottlerModule.forRootAsync({
    inject: [NatsConnectionService],
    useFactory: (nats: NatsConnectionService) => ({
      throttlers: [
        { name: 'ip', ttl, limit: cfg.rateLimit, getTracker: addressTracker },
        { name: 'device', ttl, limit: cfg.rateLimit, getTracker: deviceTracker },
      ],
      storage: createThrottlerStorage(nats, cfg.rateLimitBucket, ttl),
    }),
  });
}
