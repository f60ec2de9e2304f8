import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  nanos,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type KV,
  type KvOptions,
  type NatsConnection,
  type StreamInfo,
} from 'nats';

export type KvStorage = 'file' | 'memory';

export interface KvBucketSpec {
  bucket: string;
  /**
   * How long an entry must be kept. A bucket found with a shorter max age is
   * widened to this at bind time (never narrowed: another replica may need
   * the longer one), so no replica runs with entries that expire early.
   */
  maxAgeMs: number;
  /** Where the NATS server keeps it; an existing bucket of the other kind is migrated (see JetStreamBucket). */
  storage: KvStorage;
  /** Copies across a NATS cluster (NATS_KV_REPLICAS); 1 on a single server. */
  replicas?: number;
}

/**
 * A key-value bucket cannot be used right now: NATS is down, JetStream does not
 * answer, or the bucket could not be bound. Callers answer 503, never 500 or 401.
 */
export class KvUnavailable extends Error {
  override readonly name = 'KvUnavailable';
  /** Recognised by @portcullis/platform's isDependencyOutage. */
  readonly code = 'KV_UNAVAILABLE';

  constructor(
    readonly bucket: string,
    options?: { cause?: unknown },
  ) {
    super(`NATS key-value bucket ${bucket} is unavailable${reasonOf(options?.cause)}`, options);
  }
}

function reasonOf(err: unknown): string {
  if (!err) return '';
  const msg = err instanceof Error ? err.message : String(err);
  return msg ? `: ${msg.slice(0, 200)}` : '';
}

/** A JetStream write nobody answered: the bucket's stream is not there (yet), so nothing was written. */
export function isNoResponders(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  return e?.code === '503' || (typeof e?.message === 'string' && /no responders|stream not found/i.test(e.message));
}

/**
 * A `kv.create` or `kv.update` JetStream refused because the key's last
 * revision was not the one given: another writer got there first (or, for
 * create, the key exists). nats.js v2 rejects with a NatsError carrying the
 * server's API error; 10071 is "wrong last sequence", and newer servers send
 * the same refusal as 10164.
 */
export function isWrongLastSequence(err: unknown): boolean {
  const code = (err as { api_error?: { err_code?: number } } | undefined)?.api_error?.err_code;
  return code === 10071 || code === 10164;
}

const API_TIMEOUT_MS = 2000;
/** Read by readiness; never written, so the read answers "no entry" when all is well. */
const PROBE_KEY = 'portcullis-readiness-probe';
const COPY_BATCH = 256;
const STALE_MIGRATION_LOCK_MS = 60_000;

/**
 * One JetStream key-value bucket as the suite uses it: created on first use,
 * bound again after every reconnect (a NATS restart with an empty store, or
 * any restart for a memory bucket, removes it) and whenever a write finds it
 * gone, so the app recovers without a restart.
 *
 * Binding also reconciles the stream with this replica's needs:
 * - max age shorter than `maxAgeMs`: widened (stream update);
 * - fewer replicas than asked: raised (stream update; a failure is logged, the
 *   bucket stays usable with what it has);
 * - the other storage kind: JetStream cannot change a stream's storage, so its
 *   live entries are copied, the stream is deleted and created anew with the
 *   wanted storage, and the entries written back (with a fresh age, so they
 *   live at least as long as before).
 */
export class JetStreamBucket {
  private readonly logger: Logger;
  private view?: Promise<KV>;
  private current?: KV;
  /** Bumped by every rebind, so an older background retry loop gives up. */
  private generation = 0;
  private everBound = false;

  constructor(
    private readonly nc: () => Promise<NatsConnection | undefined>,
    readonly spec: KvBucketSpec,
  ) {
    this.logger = new Logger(`KvBucket ${spec.bucket}`);
  }

  get name(): string {
    return this.spec.bucket;
  }

  get stream(): string {
    return `KV_${this.spec.bucket}`;
  }

  /** The connection to write on; rejects with KvUnavailable while there is none. */
  async connection(): Promise<NatsConnection> {
    let nc: NatsConnection | undefined;
    try {
      nc = await this.nc();
    } catch (err) {
      throw new KvUnavailable(this.name, { cause: err });
    }
    if (!nc) throw new KvUnavailable(this.name, { cause: new Error('NATS is not configured') });
    return nc;
  }

  /**
   * The bound view, binding first when needed; concurrent callers share one bind. Rejects with
   * KvUnavailable, at once while NATS is disconnected: a read or write on a bound view would
   * otherwise wait out its whole timeout, and every request needing the bucket with it.
   */
  async bound(): Promise<KV> {
    await this.connection();
    if (!this.view) {
      const p = this.bind();
      this.view = p;
      p.then(
        (kv) => {
          this.everBound = true;
          if (this.view === p) this.current = kv;
        },
        () => {
          if (this.view === p) this.view = undefined;
        },
      );
    }
    return this.view.catch((err: unknown) => {
      throw err instanceof KvUnavailable ? err : new KvUnavailable(this.name, { cause: err });
    });
  }

  /**
   * Forget the binding (a write found the bucket gone or JetStream did not
   * answer); the next use binds again. Given the view the failed write used,
   * only that binding is dropped, so many writes failing at once cause one bind.
   */
  invalidate(stale?: KV): void {
    if (stale && this.current !== stale) return;
    this.view = undefined;
    this.current = undefined;
  }

  /**
   * Bind again now and keep retrying in the background until it works, e.g.
   * after a reconnect, so the bucket a restart removed is back before the next
   * request needs it. Never rejects.
   */
  rebind(): void {
    this.invalidate();
    const gen = ++this.generation;
    void (async () => {
      let delay = 100;
      while (gen === this.generation) {
        try {
          await this.bound();
          return;
        } catch (err) {
          this.logger.warn(`binding failed, retrying: ${err instanceof Error ? err.message : String(err)}`);
          await new Promise((r) => setTimeout(r, delay).unref());
          delay = Math.min(delay * 2, 2000);
        }
      }
    })();
  }

  /** Stops background rebinding (app shutdown). */
  stop(): void {
    this.generation++;
  }

  /** Readiness: the bucket is bound and a read of it answers. */
  async probe(): Promise<boolean> {
    let kv: KV;
    try {
      kv = await this.bound();
    } catch {
      return false;
    }
    try {
      await kv.get(PROBE_KEY);
      return true;
    } catch {
      // The stream may be gone (a NATS restart): bind again on the next use.
      this.invalidate(kv);
      return false;
    }
  }

  private createOptions(): Partial<KvOptions> {
    return {
      history: 1,
      ttl: this.spec.maxAgeMs,
      storage: this.spec.storage === 'memory' ? StorageType.Memory : StorageType.File,
      replicas: this.spec.replicas ?? 1,
      timeout: API_TIMEOUT_MS,
    };
  }

  private async bind(): Promise<KV> {
    const nc = await this.connection();
    const js = nc.jetstream({ timeout: API_TIMEOUT_MS });
    const jsm = await nc.jetstreamManager({ timeout: API_TIMEOUT_MS });
    // nats.js creates the stream when it does not exist and binds to it as it is otherwise.
    let kv = await js.views.kv(this.name, this.createOptions());
    let info = await jsm.streams.info(this.stream);
    const want = this.createOptions().storage;
    if (info.config.storage !== want) {
      ({ kv, info } = await this.migrateStorage(js, jsm, info));
    }
    info = await this.widen(jsm, info);
    if (!this.everBound) {
      this.logger.log(
        `bound: ${info.config.storage} storage, max age ${Math.round(info.config.max_age / 1e9)} s, ${info.config.num_replicas} replica(s)`,
      );
    }
    return kv;
  }

  private async widen(jsm: JetStreamManager, info: StreamInfo): Promise<StreamInfo> {
    const maxAge = nanos(this.spec.maxAgeMs);
    if (info.config.max_age !== 0 && info.config.max_age < maxAge) {
      this.logger.warn(
        `max age ${Math.round(info.config.max_age / 1e9)} s is shorter than this replica needs (${Math.round(this.spec.maxAgeMs / 1000)} s): widening it`,
      );
      // Must succeed: running with entries that expire early is what widening prevents (bind fails, the app is not ready).
      info = await jsm.streams.update(this.stream, { max_age: maxAge });
    }
    const replicas = this.spec.replicas ?? 1;
    if (replicas > info.config.num_replicas) {
      try {
        info = await jsm.streams.update(this.stream, { num_replicas: replicas });
        this.logger.log(`replicas raised to ${replicas}`);
      } catch (err) {
        this.logger.warn(
          `could not raise replicas to ${replicas}: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
    return info;
  }

  private async migrateStorage(
    js: JetStreamClient,
    jsm: JetStreamManager,
    info: StreamInfo,
  ): Promise<{ kv: KV; info: StreamInfo }> {
    const want = this.createOptions().storage;
    // One replica migrates; the others fail this bind (their requests answer 503) and bind the new stream once it is there.
    const lock = await this.takeMigrationLock(jsm);
    try {
      const again = await jsm.streams.info(this.stream);
      if (again.config.storage === want) return { kv: await js.views.kv(this.name, this.createOptions()), info: again };
      this.logger.warn(`found with ${info.config.storage} storage, ${want} wanted: moving its entries to a new stream`);
      const entries = await this.liveEntries(jsm);
      await jsm.streams.delete(this.stream);
      const kv = await js.views.kv(this.name, this.createOptions());
      for (let i = 0; i < entries.length; i += COPY_BATCH) {
        // create, not put: a key written since the new stream appeared is newer than the copy.
        await Promise.all(entries.slice(i, i + COPY_BATCH).map(([k, v]) => kv.create(k, v).catch(() => undefined)));
      }
      this.logger.warn(`moved ${entries.length} entries to ${want} storage`);
      return { kv, info: await jsm.streams.info(this.stream) };
    } finally {
      await jsm.streams.delete(lock).catch(() => undefined);
    }
  }

  /** Every key's last value, from the stream itself (its per-subject state lists the keys). */
  private async liveEntries(jsm: JetStreamManager): Promise<Array<[string, Uint8Array]>> {
    const full = await jsm.streams.info(this.stream, { subjects_filter: '>' });
    const subjects = Object.keys(full.state.subjects ?? {});
    const prefix = `$KV.${this.name}.`;
    const entries: Array<[string, Uint8Array]> = [];
    for (let i = 0; i < subjects.length; i += COPY_BATCH) {
      const batch = await Promise.all(
        subjects
          .slice(i, i + COPY_BATCH)
          .map((subj) => jsm.streams.getMessage(this.stream, { last_by_subj: subj }).catch(() => undefined)),
      );
      for (const m of batch) {
        const op = m?.header?.get('KV-Operation');
        if (m && m.subject.startsWith(prefix) && op !== 'DEL' && op !== 'PURGE')
          entries.push([m.subject.slice(prefix.length), m.data]);
      }
    }
    return entries;
  }

  /**
   * Creating a stream is atomic, and one with another description is refused,
   * so the replica whose stream exists holds the lock. A lock left by a replica
   * that died mid-way is taken over after a minute.
   */
  private async takeMigrationLock(jsm: JetStreamManager): Promise<string> {
    const name = `${this.stream}_MIGRATION`;
    const config = {
      name,
      subjects: [`portcullis.kv-migration.${this.name}`],
      description: `storage migration by ${randomUUID()}`,
      storage: StorageType.Memory,
      max_msgs: 1,
    };
    try {
      await jsm.streams.add(config);
      return name;
    } catch (err) {
      const held = await jsm.streams.info(name).catch(() => undefined);
      if (held && Date.now() - new Date(held.created).getTime() > STALE_MIGRATION_LOCK_MS) {
        await jsm.streams.delete(name).catch(() => undefined);
      }
      throw new Error(`another replica is moving this bucket to ${this.spec.storage} storage`, { cause: err });
    }
  }
}
