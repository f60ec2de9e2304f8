import { createPrivateKey, createPublicKey, KeyObject, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { calculateJwkThumbprint, errors, exportJWK, JWK, JWTHeaderParameters, KeyLike } from 'jose';

export interface RingKey {
  kid: string;
  publicJwk: JWK;
  publicKey: KeyObject;
  privateKey?: KeyObject;
  /** When it stopped signing; it keeps verifying until every token it signed has expired. */
  retiredAt?: Date;
}

interface StoredKey {
  pkcs8: string;
  created_at: string;
  retired_at?: string;
}

/**
 * The signing keys. The first key signs; the rest only verify. Keys come from
 * configuration (PEM values or files: Kubernetes secrets) or, in development
 * with none configured, from a generated key kept in the data directory so a
 * restart does not void issued tokens.
 */
export class KeyRing {
  private keys: RingKey[] = [];

  private constructor(
    private readonly store: string | undefined,
    private readonly maxTokenLifetimeSeconds: number,
  ) {}

  static async fromConfig(opts: {
    signingKeyPem?: string;
    previousKeyPems: string[];
    dataDir: string;
    maxTokenLifetimeSeconds: number;
  }): Promise<KeyRing> {
    if (opts.signingKeyPem) {
      const ring = new KeyRing(undefined, opts.maxTokenLifetimeSeconds);
      ring.keys = [await toRingKey(opts.signingKeyPem, true)];
      for (const pem of opts.previousKeyPems)
        ring.keys.push({ ...(await toRingKey(pem, false)), privateKey: undefined });
      return ring;
    }
    const dir = join(opts.dataDir, 'device-auth');
    const ring = new KeyRing(join(dir, 'signing-keys.json'), opts.maxTokenLifetimeSeconds);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    await ring.loadStore();
    if (!ring.keys.length || ring.keys[0].retiredAt) await ring.rotate();
    return ring;
  }

  /** Keys are generated and stored by this process (development), so they can be rotated at runtime. */
  get rotatable(): boolean {
    return this.store !== undefined;
  }

  signer(): { kid: string; key: KeyObject } {
    const k = this.keys[0];
    if (!k?.privateKey) throw new Error('no signing key');
    return { kid: k.kid, key: k.privateKey };
  }

  /** jose key lookup: only ES256 and only a `kid` this ring holds; nothing from the token's own header. */
  readonly getKey = async (header: JWTHeaderParameters): Promise<KeyLike> => {
    const k =
      header.alg === 'ES256' && typeof header.kid === 'string'
        ? this.verifying().find((x) => x.kid === header.kid)
        : undefined;
    if (!k) throw new errors.JWKSNoMatchingKey();
    return k.publicKey;
  };

  jwks(): { keys: JWK[] } {
    return { keys: this.verifying().map((k) => ({ ...k.publicJwk, kid: k.kid, alg: 'ES256', use: 'sig' })) };
  }

  kids(): string[] {
    return this.verifying().map((k) => k.kid);
  }

  /** New signing key first; the old one verifies until its last token expired. Development store only. */
  async rotate(): Promise<string> {
    if (this.store === undefined) throw new Error('signing keys come from configuration; rotate them there');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const now = new Date();
    for (const k of this.keys) k.retiredAt ??= now;
    const fresh = await toRingKey(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), true);
    this.keys = [fresh, ...this.verifying().filter((k) => k.kid !== fresh.kid)];
    this.saveStore();
    return fresh.kid;
  }

  private verifying(): RingKey[] {
    // Tokens live at most maxTokenLifetime, plus clock tolerance.
    const horizon = Date.now() - (this.maxTokenLifetimeSeconds + 60) * 1000;
    return this.keys.filter((k) => !k.retiredAt || k.retiredAt.getTime() > horizon);
  }

  private async loadStore(): Promise<void> {
    if (!this.store || !existsSync(this.store)) return;
    const stored = JSON.parse(readFileSync(this.store, 'utf8')) as { keys: StoredKey[] };
    this.keys = [];
    for (const s of stored.keys) {
      const k = await toRingKey(s.pkcs8, true);
      if (s.retired_at) k.retiredAt = new Date(s.retired_at);
      this.keys.push(k);
    }
    this.keys = this.verifying();
  }

  private saveStore(): void {
    if (!this.store) return;
    const keys: StoredKey[] = this.keys.map((k) => ({
      pkcs8: (k.privateKey as KeyObject).export({ format: 'pem', type: 'pkcs8' }).toString(),
      created_at: new Date().toISOString(),
      retired_at: k.retiredAt?.toISOString(),
    }));
    const tmp = `${this.store}.tmp`;
    writeFileSync(tmp, JSON.stringify({ keys }), { mode: 0o600 });
    renameSync(tmp, this.store);
  }
}

async function toRingKey(pem: string, requirePrivate: boolean): Promise<RingKey> {
  let privateKey: KeyObject | undefined;
  let publicKey: KeyObject;
  if (pem.includes('PRIVATE KEY')) {
    privateKey = createPrivateKey(pem);
    publicKey = createPublicKey(privateKey);
  } else {
    if (requirePrivate) throw new Error('the signing key must be a private key (PKCS#8 PEM)');
    publicKey = createPublicKey(pem);
  }
  const details = publicKey.asymmetricKeyDetails;
  if (publicKey.asymmetricKeyType !== 'ec' || details?.namedCurve !== 'prime256v1') {
    throw new Error('signing keys must be EC P-256 (ES256)');
  }
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
  return { kid, publicJwk, publicKey, privateKey };
}
