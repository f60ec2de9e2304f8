/** The admin key(s) accepted right now. */
export interface AdminKeySet {
  current?: string;
  /** A key being rotated out, accepted until `validUntil`. */
  previous?: { key: string; validUntil: Date };
}

/**
 * Where the admin-key strategy reads the admin key from, on every request, so a source
 * may change its answer at runtime (a hot-reloaded config file, say).
 */
export abstract class AdminKeySource {
  abstract keys(): AdminKeySet;

  /**
   * Where the operator finds the accepted key (e.g. "[daemon] api_key in /etc/portcullis.toml"),
   * added to every 401 so a CLI/daemon mismatch is fixable. Never a key.
   */
  describe(): string | undefined {
    return undefined;
  }
}

/** A fixed key set, e.g. from PORTCULLIS_ADMIN_API_KEY read once at boot. */
export class StaticAdminKeySource extends AdminKeySource {
  constructor(private readonly set: AdminKeySet) {
    super();
  }

  keys(): AdminKeySet {
    return this.set;
  }
}

/** A source whose keys can be replaced while the app runs. */
export class MutableAdminKeySource extends AdminKeySource {
  constructor(private set: AdminKeySet = {}) {
    super();
  }

  keys(): AdminKeySet {
    return this.set;
  }

  update(set: AdminKeySet): void {
    this.set = set;
  }
}
