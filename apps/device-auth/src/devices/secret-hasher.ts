import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hmacSha256Hex, randomToken, safeEqual } from '@portcullis/auth';

/**
 * Device secrets: generated here (256 random bits), shown once, stored as
 * HMAC-SHA-256 under a pepper that never enters the database. A fast keyed
 * hash is enough because the secret is high-entropy, not a password.
 */
export class SecretHasher {
  /** Compared against when the device is unknown, so every path does the same work. */
  private readonly decoy: string;

  constructor(private readonly pepper: string) {
    this.decoy = this.hash(randomToken(32));
  }

  /** DEVICE_AUTH_PEPPER, or in development a generated pepper kept in the data directory. */
  static fromConfig(pepper: string | undefined, dataDir: string): SecretHasher {
    if (pepper) return new SecretHasher(pepper);
    const dir = join(dataDir, 'device-auth');
    const file = join(dir, 'pepper');
    if (!existsSync(file)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeFileSync(file, randomToken(32), { mode: 0o600 });
    }
    return new SecretHasher(readFileSync(file, 'utf8').trim());
  }

  generate(): string {
    return `ds_${randomToken(32)}`;
  }

  hash(secret: string): string {
    return hmacSha256Hex(this.pepper, secret);
  }

  /**
   * Checks a presented secret against the current hash and the overlap hash.
   * Both comparisons always run, against the decoy when a hash is absent.
   */
  matches(
    presented: string,
    current: string | undefined,
    previous: string | undefined,
  ): 'current' | 'previous' | false {
    const h = this.hash(presented);
    const cur = safeEqual(h, current ?? this.decoy) && current !== undefined;
    const prev = safeEqual(h, previous ?? this.decoy) && previous !== undefined;
    return cur ? 'current' : prev ? 'previous' : false;
  }
}
