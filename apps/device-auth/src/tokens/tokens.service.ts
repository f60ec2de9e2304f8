import { Injectable } from '@nestjs/common';
import { DeviceTokenVerifier, RevocationMap, TokenRejected, VerifiedDevice } from '@portcullis/auth';
import { DEVICE_TOKEN_HEADER_TYP, DEVICE_TOKEN_TYP } from '@portcullis/contracts';
import { SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { DeviceAuthConfig } from '../config';
import { Device } from '../database/device.entity';
import { DevicesService } from '../devices/devices.service';
import { KeyRing } from '../keys/key-ring';

/** Issues device access tokens and verifies them against the key ring and the registry. */
@Injectable()
export class TokensService {
  private readonly verifier: DeviceTokenVerifier;

  constructor(private readonly cfg: DeviceAuthConfig, private readonly ring: KeyRing, private readonly devices: DevicesService) {
    // Here the registry is the revocation truth, so no snapshot sync and no verified-token cache.
    this.verifier = new DeviceTokenVerifier(
      { keys: ring.getKey, issuer: cfg.issuer, audience: cfg.audience, requireSync: false, cacheSize: 0 },
      new RevocationMap(),
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

  /** Signature and claims, then the registry: the device must exist, be active and not have moved past the token's generation. */
  async verify(token: string | undefined): Promise<{ principal: VerifiedDevice; device: Device }> {
    const principal = await this.verifier.verify(token);
    const device = await this.devices.find(principal.deviceId);
    if (!device) throw new TokenRejected('revoked');
    if (!device.active || principal.generation < device.tokenGeneration) throw new TokenRejected('revoked');
    if (device.customerId !== principal.customerId) throw new TokenRejected('claim_mismatch');
    return { principal, device };
  }
}
