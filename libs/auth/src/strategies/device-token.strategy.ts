import type { DependencyUnavailable } from '@portcullis/platform';
import { DeviceTokenVerifier, VerifiedDevice } from '../device-token/device-token.verifier';
import { Accepted, AuthRejected, AuthRequest, AuthStrategy, RouteAuth } from '../guard/strategy';
import { bearerToken } from '../jwt/jwks-verifier';

/**
 * device-auth's own check of a verified token against its registry: the row, or a
 * rejection (TokenRejected 'revoked', 'claim_mismatch'), or the store's own error
 * when it cannot be read.
 */
export interface DeviceRegistryHook<R = unknown> {
  load(device: VerifiedDevice): Promise<R>;
  /** Whether an error of `load` means the registry cannot be read right now: an outage, not a refusal. */
  isOutage(err: unknown): boolean;
  /** The 503 to answer for such an error. */
  outage(err: unknown): DependencyUnavailable;
}

/** The verified device, and its registry row where the app has a registry (device-auth). */
export type DevicePrincipal<R = unknown> = VerifiedDevice & { registered?: R };

export interface DeviceTokenOptions<R = unknown> {
  verifier: DeviceTokenVerifier;
  registry?: DeviceRegistryHook<R>;
  /**
   * Only bearers shaped like a JWT are device tokens (bot-control, where a bearer
   * may also be the shared secret, which is never a JWT).
   */
  jwtShapedOnly?: boolean;
  /** How the audit log names the device (`device:<id>` in bot-control; the bare id elsewhere). */
  subjectPrefix?: string;
  /** Reason code of an accepted token (`device_token` where other kinds share the route; `ok` elsewhere). */
  acceptReason?: string;
}

const JWT_SHAPE = /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;

/**
 * `Authorization: Bearer <device token>` from device-auth, verified locally (ES256,
 * JWKS, this app's revocation map). With a registry hook (device-auth), the token must
 * also still be honoured by the registry; while the registry cannot be read the answer
 * is 503, except on routes marked `tokenSuffices`, which go on with the token alone.
 */
export class DeviceTokenStrategy<R = unknown> extends AuthStrategy<string, DevicePrincipal<R>> {
  readonly kind = 'device-token';

  constructor(private readonly opts: DeviceTokenOptions<R>) {
    super();
  }

  extract(request: AuthRequest): string | undefined {
    const token = bearerToken(request.headers.authorization);
    if (token && this.opts.jwtShapedOnly && !JWT_SHAPE.test(token)) return undefined;
    return token;
  }

  async verify(token: string | undefined, route: RouteAuth): Promise<Accepted<DevicePrincipal<R>>> {
    const device = await this.opts.verifier.verify(token);
    const accepted = (
      principal: DevicePrincipal<R>,
      reason = this.opts.acceptReason ?? 'ok',
    ): Accepted<DevicePrincipal<R>> => ({
      principal,
      subject: `${this.opts.subjectPrefix ?? ''}${device.deviceId}`,
      reason,
    });
    const registry = this.opts.registry;
    if (!registry) return accepted(device);
    try {
      return accepted({ ...device, registered: await registry.load(device) });
    } catch (err) {
      if (!registry.isOutage(err)) throw err;
      // The token verified (signature, expiry, this replica's revocation floors); only the registry is missing.
      if (route.options.tokenSuffices) return accepted(device, 'registry_unavailable');
      throw new AuthRejected('registry_unavailable', { outage: registry.outage(err) });
    }
  }
}
