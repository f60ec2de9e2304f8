import { AdminKeySet, AdminKeySource, checkAdminKey, fingerprint } from '@portcullis/auth';

export interface AdminKeyChange {
  currentFingerprint: string;
  previousFingerprint?: string;
  previousValidUntil?: Date;
}

/**
 * The admin key the daemon accepts, fed from the config file and re-read when it is edited:
 * a key changed in the file replaces the current one at once, and the old one keeps
 * working until the grace window ends, so a CLI that read the file just before the
 * edit still gets through. Every app's admin-key strategy reads it per request.
 * Only fingerprints ever leave this class.
 */
export class ReloadingAdminKeySource extends AdminKeySource {
  private set: AdminKeySet;

  constructor(
    key: string,
    private readonly configPath: string,
    private readonly graceMs: number,
    private readonly now: () => number = Date.now,
  ) {
    super();
    this.set = { current: key };
  }

  keys(): AdminKeySet {
    return this.set;
  }

  override describe(): string {
    return `[daemon] api_key in ${this.configPath}`;
  }

  accepts(presented: string | undefined): boolean {
    return checkAdminKey(presented, this.set, new Date(this.now())).ok;
  }

  /** Replaces the key; undefined when it is the same key. */
  rotate(next: string): AdminKeyChange | undefined {
    const old = this.set.current as string;
    if (next === old) return undefined;
    const previous = this.graceMs > 0 ? { key: old, validUntil: new Date(this.now() + this.graceMs) } : undefined;
    this.set = { current: next, previous };
    return {
      currentFingerprint: fingerprint(next),
      previousFingerprint: previous ? fingerprint(old) : undefined,
      previousValidUntil: previous?.validUntil,
    };
  }

  fingerprint(): string {
    return fingerprint(this.set.current as string);
  }

  previousFingerprint(): { fingerprint: string; validUntil: Date } | undefined {
    const p = this.set.previous;
    if (!p || p.validUntil.getTime() <= this.now()) return undefined;
    return { fingerprint: fingerprint(p.key), validUntil: p.validUntil };
  }
}
