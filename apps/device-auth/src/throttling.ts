import { HttpException, HttpStatus, Injectable } from '@nestjs/common';
import { InjectThrottlerStorage, ThrottlerModule, ThrottlerStorage } from '@nestjs/throttler';
import {
  createThrottlerStorage,
  markThrottled,
  MetricsService,
  NatsConnectionService,
  ThrottleWindow,
} from '@portcullis/platform';
import type { FastifyReply } from 'fastify';
import { DeviceAuthConfig } from './config';

/** What the sign-in limits read of a request: its parsed body and its client address. */
export interface SignInRequest {
  body?: unknown;
  ip?: string;
}

/** Per-device tracker: the device_id in the body. */
function deviceTracker(req: SignInRequest): string {
  const id = (req.body as { device_id?: unknown } | undefined)?.device_id;
  return typeof id === 'string' ? `device:${id.slice(0, 128)}` : 'device:(none)';
}

/** Per-address tracker: req.ip honours X-Forwarded-For only from TRUSTED_PROXIES (bootApp's trustProxy). */
function addressTracker(req: SignInRequest): string {
  return `ip:${String(req.ip)}`;
}

/** The shared throttler storages (JetStream KV, or in memory without NATS) can also read a window without counting. */
export interface PeekableThrottlerStorage extends ThrottlerStorage {
  peek(key: string, throttlerName: string): Promise<ThrottleWindow | undefined>;
}

/** The throttler names the windows are stored under. */
const SIGN_IN_DEVICE = 'device';
const SIGN_IN_ADDRESS_FAILURES = 'ip-failures';

export type SignInRefusal = 'throttled_device' | 'throttled_address';

/** A 429 with Retry-After; `reason` goes to the audit trail, never to the caller. */
export class SignInThrottled extends HttpException {
  constructor(readonly reason: SignInRefusal) {
    super({ detail: 'Too many sign-in attempts; retry later' }, HttpStatus.TOO_MANY_REQUESTS);
  }
}

/**
 * The /device/auth limits, counted in a JetStream KV bucket shared by every replica:
 *
 * - per device: every answered attempt counts, successful or not, so one device gets
 *   at most DEVICE_AUTH_RATE_LIMIT sign-ins a window wherever it comes from;
 * - per address: only FAILED sign-ins count (up to DEVICE_AUTH_ADDRESS_FAILURE_LIMIT),
 *   so healthy devices behind one address (a NAT, a carrier gateway) do not use up
 *   each other's allowance.
 *
 * An attempt is counted once its outcome is known (so a request answered 503 during a
 * Postgres outage costs the device nothing), and the attempt that goes over a limit is
 * answered 429 instead of its outcome. Until the block ends (one window), attempts for
 * that device, or from that address, are refused before the credential check; those
 * are not failures, so a device storming with a bad or revoked secret adds at most one
 * window's allowance of failures to its address, and its neighbours keep signing in.
 * Requests in flight at the same moment are each checked before any is counted, so a
 * burst can overshoot a limit by the number of its requests answered in parallel.
 */
@Injectable()
export class SignInLimits {
  private readonly ttl: number;

  constructor(
    @InjectThrottlerStorage() private readonly storage: PeekableThrottlerStorage,
    private readonly cfg: DeviceAuthConfig,
    private readonly metrics: MetricsService,
  ) {
    this.ttl = cfg.rateWindowSeconds * 1000;
  }

  /** Before the credential check: refuses (SignInThrottled) while the device or the address is blocked. Counts nothing. */
  async admit(req: SignInRequest, reply: FastifyReply): Promise<void> {
    const [device, address] = await Promise.all([
      this.storage.peek(deviceTracker(req), SIGN_IN_DEVICE),
      this.storage.peek(addressTracker(req), SIGN_IN_ADDRESS_FAILURES),
    ]);
    const now = Date.now();
    if (device && device.blockedUntil > now) this.refuse(reply, (device.blockedUntil - now) / 1000, 'throttled_device');
    if (address && address.blockedUntil > now)
      this.refuse(reply, (address.blockedUntil - now) / 1000, 'throttled_address');
  }

  /** A successful sign-in counts against its device only. */
  async succeeded(req: SignInRequest, reply: FastifyReply): Promise<void> {
    const device = await this.countDevice(req);
    if (device.isBlocked) this.refuse(reply, device.timeToBlockExpire, 'throttled_device');
  }

  /**
   * A failed sign-in counts against its device and then its address. One that puts its
   * device over the limit is refused for the device's sake and not also charged to the
   * address: one storming device must not use up its neighbours' allowance.
   */
  async failed(req: SignInRequest, reply: FastifyReply): Promise<void> {
    const device = await this.countDevice(req);
    if (device.isBlocked) this.refuse(reply, device.timeToBlockExpire, 'throttled_device');
    const address = await this.storage.increment(
      addressTracker(req),
      this.ttl,
      this.cfg.addressFailureLimit,
      this.ttl,
      SIGN_IN_ADDRESS_FAILURES,
    );
    if (address.isBlocked) this.refuse(reply, address.timeToBlockExpire, 'throttled_address');
  }

  private countDevice(req: SignInRequest) {
    return this.storage.increment(deviceTracker(req), this.ttl, this.cfg.rateLimit, this.ttl, SIGN_IN_DEVICE);
  }

  private refuse(reply: FastifyReply, seconds: number, reason: SignInRefusal): never {
    markThrottled(reply, this.metrics, '/device/auth', seconds);
    throw new SignInThrottled(reason);
  }
}

/** The storage SignInLimits counts in (ThrottlerModule provides it to whoever injects it). */
export function deviceAuthThrottling(cfg: DeviceAuthConfig) {
  const ttl = cfg.rateWindowSeconds * 1000;
  return ThrottlerModule.forRootAsync({
    inject: [NatsConnectionService],
    useFactory: (nats: NatsConnectionService) => ({
      throttlers: [{ name: SIGN_IN_DEVICE, ttl, limit: cfg.rateLimit }],
      storage: createThrottlerStorage(nats, cfg.rateLimitBucket, ttl),
    }),
  });
}
