import { Injectable } from '@nestjs/common';
import { DeviceTokenVerifier, TokenRejected, VerifiedDevice } from '@portcullis/auth';
import { DEVICE_TOKEN_HEADER_TYP, DEVICE_TOKEN_TYP } from '@portcullis/contracts';
import { SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { DeviceAuthConfig } from '../config';
import { Device } from '../database/device.entity';
import { DevicesService } from '../devices/devices.service';
import { KeyRing } from '../keys/key-ring';
import { LocalRevocations } from '../revocation/local-revocations';

/** Issues device access tokens and verifies them against the key ring and the registry. */
@Injectable()
export class TokensService {
  readonly verifier: DeviceTokenVerifier;

  constructor(
    private readonly cfg: DeviceAuthConfig,
    private readonly ring: KeyRing,
    private readonly devices: DevicesService,
    revocations: LocalRevocations,
  ) {
    // The registry is the revocation truth; the local floors stand in for it only while it is
    // unreachable, on routes that need no registry row. No verified-token cache.
    this.verifier = new DeviceTokenVerifier(
      { keys: ring.getKey, issuer: cfg.issuer, audience: cfg.audience, requireSync: false, cacheSize: 0 },
      revocations,
    );
  }

  async issue(d: Device): Promise<{ access_token: string; token_type: 'Bearer'; expires_in: number }> {
    const { kid, key } = this.ring.signer();
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ cid: d.customerId, typ: DEVICE_TOKEN_TYP, gen: d.tokenGeneration })
      .setProtectedHeader({ alg: 'ES256', kid, typ: DEVICE_TOKEN_HEADER_TYP })
      .setIssuer(this.cfg.issuer)
      .setAudience(this.cfg.audience)
      .setSubject(d.deviceId)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + this.cfg.tokenTtlSeconds)
      .sign(key);
    return { access_token: token, token_type: 'Bearer', expires_in: this.cfg.tokenTtlSeconds };
  }

  /** Signature, claims and this replica's revocation floors: no database involved. Throws TokenRejected. */
  verifyToken(token: string | undefined): Promise<VerifiedDevice> {
    return this.verifier.verify(token);
  }

  /**
   * The registry's word on a verified token: the device must exist, be active and not
   * have moved past the token's generation. Throws TokenRejected, or the database's
   * own error when Postgres cannot be used.
   */
  async checkRegistry(principal: VerifiedDevice): Promise<Device> {
    const device = await this.devices.find(principal.deviceId);
    if (!device) throw new TokenRejected('revoked');
    if (device.tokenGeneration > 1) this.verifier.revocations.raise(device.deviceId, device.tokenGeneration);
    if (!device.active || principal.generation < device.tokenGeneration) throw new TokenRejected('revoked');
    if (device.customerId !== principal.customerId) throw new TokenRejected('claim_mismatch');
    return device;
  }

  /** Both checks. */
  async verify(token: string | undefined): Promise<{ principal: VerifiedDevice; device: Device }> {
    const principal = await this.verifyToken(token);
    return { principal, device: await this.checkRegistry(principal) };
  }
}
