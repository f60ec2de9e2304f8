import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { appUrl, drainHttp, logContext, REDACT_PATHS } from '@portcullis/platform';
import pino, { Logger } from 'pino';
import { APP_NAMES, AppName, ConfigFileError, ConfigLocation, ensureSecrets, Loaded, SuiteConfig } from '../config';
import { ReloadingAdminKeySource } from './admin-key.source';
import { Env, RunContext, SUITE_APPS } from './apps';
import { ConfigWatcher } from './config-watcher';
import { ControlServer, ControlStatus, DaemonEvent } from './control-server';
import { EmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres';
import { DaemonState, isAlive, readPid, removeQuietly, runtimePaths, writeState } from './state';

export interface DaemonOptions {
  location: ConfigLocation;
  env?: Env;
  /** Called once every app answers /health/ready. */
  onReady?: (state: DaemonState) => void;
}

export interface RunningDaemon {
  state: DaemonState;
  stop(): Promise<void>;
}

/** A daemon that could not start; the message says what to do. */
export class DaemonStartError extends Error {}

/**
 * The all-in-one runner: every app of the suite in this process, each its own
 * Nest application on its own port, fed from one config file. Started by
 * `portcullis start` (in the background), `start --foreground` (`npm start`)
 * or directly; in every case a missing key is generated and SAVED first, so the CLI can read it.
 */
export async function runDaemon(opts: DaemonOptions): Promise<RunningDaemon> {
  const env = opts.env ?? process.env;
  const log = pino({
    base: { app: 'runner', pid: process.pid },
    level: 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  });
  const { loaded, generated } = ensureSecrets(opts.location, env);
  const cfg = loaded.config;
  for (const g of generated)
    log.info(
      { setting: g.setting, key_fingerprint: g.fingerprint, config_file: cfg.file.path },
      `generated ${g.setting} and saved it to ${cfg.file.path}`,
    );
  for (const w of loaded.warnings) log.warn({ config_file: cfg.file.path }, w);

  mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
  const paths = runtimePaths(cfg.dataDir);
  const other = readPid(cfg.dataDir);
  if (other && other !== process.pid && isAlive(other)) {
    throw new DaemonStartError(
      `a daemon for ${cfg.file.path} is already running (pid ${other}, data directory ${cfg.dataDir}); stop it with \`portcullis stop\` first`,
    );
  }
  writeFileSync(paths.pid, `${process.pid}\n`, { mode: 0o600 });

  const keySource = new ReloadingAdminKeySource(cfg.apiKey as string, cfg.file.path, cfg.keyGraceSeconds * 1000);
  const started: Array<{ name: AppName; app: INestApplication; url: string }> = [];
  const notStarted: DaemonState['not_started'] = [];
  let pg: EmbeddedPostgres | undefined;
  let pgStarting: Promise<EmbeddedPostgres> | undefined;
  const startedAt = new Date().toISOString();
  let controlUrl = '';
  let ready = false;

  const status = (): ControlStatus => {
    const prev = keySource.previousFingerprint();
    return {
      pid: process.pid,
      config_file: cfg.file.path,
      started_at: startedAt,
      ready,
      key_fingerprint: keySource.fingerprint(),
      previous_key: prev ? { fingerprint: prev.fingerprint, valid_until: prev.validUntil.toISOString() } : undefined,
      apps: started.map((s) => ({ name: s.name, url: s.url })),
      not_started: notStarted,
    };
  };
  const state = (): DaemonState => ({
    pid: process.pid,
    config_file: cfg.file.path,
    control_url: controlUrl,
    started_at: startedAt,
    ready,
    key_fingerprint: keySource.fingerprint(),
    apps: started.map((s) => ({ name: s.name, url: s.url })),
    not_started: notStarted,
  });

  const control = new ControlServer(keySource, status, {
    websocket: cfg.websocketEnabled,
    heartbeatMs: cfg.websocketHeartbeatSeconds * 1000,
    onSocketError: (err) =>
      log.debug({ err: err.message, code: err.code }, 'daemon events connection closed on a socket or protocol error'),
  });
  let watcher: ConfigWatcher | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      control.publish({ type: 'stopping' });
      watcher?.close();
      // Every app stops taking requests and drains at once, so the whole stop stays within one
      // SHUTDOWN_DRAIN_MS rather than one per app; each close below then finds its server drained.
      await Promise.all(started.map((s) => drainHttp(s.app)));
      for (const s of [...started].reverse())
        await s.app
          .close()
          .catch((err: Error) => log.error({ app: s.name, err: err.message }, 'app did not close cleanly'));
      await control.close();
      if (pgStarting) await (await pgStarting.catch(() => undefined))?.close().catch(() => undefined);
      removeQuietly(paths.state);
      if (readPid(cfg.dataDir) === process.pid) removeQuietly(paths.pid);
      lastResort.remove();
      log.info('stopped');
    })());

  const lastResort = installLastResort(log, stop);

  try {
    controlUrl = await control.listen(cfg.ipcHost, cfg.ipcPort).catch((err: NodeJS.ErrnoException) => {
      throw new DaemonStartError(
        portProblem('the daemon control endpoint', cfg.ipcPort, '[daemon] ipc_port', cfg, err),
      );
    });
    const ctx: RunContext = {
      config: cfg,
      keySource,
      urls: {},
      logStream: process.stdout,
      databaseUrl: async () => {
        const real = env.DATABASE_URL || cfg.databaseUrl;
        if (real) return real;
        pgStarting ??= startEmbeddedPostgres(cfg.dataDir);
        pg = await pgStarting;
        log.info({ data_dir: cfg.dataDir }, 'embedded Postgres (PGlite) is serving device-auth');
        return pg.url;
      },
    };
    const wanted = new Set<AppName>(cfg.apps ?? APP_NAMES);
    for (const name of APP_NAMES) {
      if (!wanted.has(name)) notStarted.push({ name, reason: 'left out by [suite] apps' });
      else if (!SUITE_APPS.some((a) => a.name === name)) notStarted.push({ name, reason: 'not part of this build' });
    }
    for (const app of SUITE_APPS.filter((a) => wanted.has(a.name))) {
      const appEnv = {
        ...commonEnv(env, cfg, app.name),
        ...(await app.env(ctx)),
        ...cfg.extraEnv.all,
        ...cfg.extraEnv[app.name],
      };
      const nest = await app.start(appEnv, ctx).catch((err: NodeJS.ErrnoException) => {
        throw new DaemonStartError(
          err.code === 'EADDRINUSE'
            ? portProblem(app.name, cfg.ports[app.name], `[ports] ${app.name.replace(/-/g, '_')}`, cfg, err)
            : `${app.name} did not start: ${err.message}`,
        );
      });
      const url = await appUrl(nest);
      started.push({ name: app.name, app: nest, url });
      ctx.urls[app.name] = url;
      log.info({ app: app.name, url }, `${app.name} listening on ${url}`);
    }
    await waitReady(started, cfg.readyTimeoutSeconds * 1000);
    ready = true;
    writeState(cfg.dataDir, state());
    log.info(
      { config_file: cfg.file.path, key_fingerprint: keySource.fingerprint(), control_url: controlUrl },
      'all apps ready',
    );
  } catch (err) {
    await stop();
    throw err;
  }

  watcher = new ConfigWatcher({ ...opts.location, exists: true }, cfg.reloadPollMs, {
    onChange: (next: Loaded) =>
      onConfigChange(next, cfg, keySource, log, (e) => {
        writeState(cfg.dataDir, state());
        control.publish(e);
      }),
    onError: (err) => {
      control.publish({
        type: 'config_error',
        config_file: cfg.file.path,
        line: err instanceof ConfigFileError ? err.line : undefined,
      });
      log.error(
        { config_file: cfg.file.path, line: err instanceof ConfigFileError ? err.line : undefined },
        `${err.message} — keeping the keys in force (current ${keySource.fingerprint()})`,
      );
    },
  });
  watcher.start(cfg.file.text);
  opts.onReady?.(state());
  return { state: state(), stop };
}

/** The key edited in the file takes over at once; the old one is honoured for the grace window. */
function onConfigChange(
  next: Loaded,
  cfg: SuiteConfig,
  keys: ReloadingAdminKeySource,
  log: Logger,
  changed: (e: DaemonEvent) => void,
): void {
  const key = next.config.apiKey;
  if (!key) {
    log.warn(
      { config_file: cfg.file.path, key_fingerprint: keys.fingerprint() },
      `[daemon] api_key was removed from ${cfg.file.path}; still accepting the key in force. Put a key back (or run \`portcullis stop && portcullis start\` to generate one)`,
    );
    return;
  }
  const change = keys.rotate(key);
  if (change) {
    log.info(
      {
        config_file: cfg.file.path,
        key_fingerprint: change.currentFingerprint,
        previous_key_fingerprint: change.previousFingerprint,
        previous_valid_until: change.previousValidUntil?.toISOString(),
      },
      change.previousFingerprint
        ? `admin key changed in ${cfg.file.path}: now ${change.currentFingerprint}; previous ${change.previousFingerprint} accepted until ${change.previousValidUntil?.toISOString()}`
        : `admin key changed in ${cfg.file.path}: now ${change.currentFingerprint}; previous key refused at once (key_grace_seconds = 0)`,
    );
    changed({
      type: 'key_changed',
      key_fingerprint: change.currentFingerprint,
      previous_key_fingerprint: change.previousFingerprint,
      previous_valid_until: change.previousValidUntil?.toISOString(),
    });
    if (change.previousValidUntil) {
      const t = setTimeout(
        () => {
          if (keys.previousFingerprint()) return;
          log.info(
            { previous_key_fingerprint: change.previousFingerprint },
            `grace window over: previous admin key ${change.previousFingerprint} is no longer accepted`,
          );
          changed({ type: 'key_grace_over', previous_key_fingerprint: change.previousFingerprint });
        },
        change.previousValidUntil.getTime() - Date.now() + 10,
      );
      t.unref();
    }
  }
  for (const w of next.warnings) log.warn({ config_file: cfg.file.path }, w);
}

/**
 * The last resort of a process that hosts every app. The causes are handled where they
 * arise (every socket, stream and child has its 'error' listener); this only makes an
 * escape loud and attributable, naming the app whose async context it happened in.
 *
 * - An unhandled promise rejection is one call chain that already ended: logged at
 *   error with the app's name, and the suite keeps running (one bad request in one app
 *   must not stop the other three and the daemon).
 * - An uncaught exception may have stopped code half-way through changing shared state
 *   (Node: "it is not safe to resume normal operation"): logged at fatal with the app's
 *   name, then every app is stopped cleanly (the pid and state files removed, so a
 *   service manager or `portcullis start` can start afresh) and the process exits 70.
 */
function installLastResort(log: Logger, stop: () => Promise<void>): { remove(): void } {
  const faultedApp = () => {
    const bindings = logContext.getStore()?.logger?.bindings() as { app?: unknown } | undefined;
    return typeof bindings?.app === 'string' ? bindings.app : 'unknown (outside any app)';
  };
  const onRejection = (reason: unknown) => {
    const app = faultedApp();
    log.error(
      { faulted_app: app, err: reason instanceof Error ? reason : new Error(String(reason)) },
      `unhandled promise rejection in ${app}; the suite keeps running`,
    );
  };
  const onException = (err: Error) => {
    const app = faultedApp();
    log.fatal({ faulted_app: app, err }, `uncaught exception in ${app}: stopping every app of the suite`);
    const force = setTimeout(() => process.exit(70), 10000);
    force.unref();
    void stop().finally(() => process.exit(70));
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return {
    remove() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    },
  };
}

function commonEnv(env: Env, cfg: SuiteConfig, name: AppName): Env {
  const base: Env = { ...env };
  delete base.PORT; // one PORT for four apps would collide; each gets its own below
  return {
    ...base,
    HOST: cfg.host,
    PORT: String(cfg.ports[name]),
    LOG_LEVEL: env.LOG_LEVEL || cfg.logLevel,
    NATS_URL: env.NATS_URL || cfg.natsUrl,
    PORTCULLIS_DATA_DIR: join(cfg.dataDir, name),
  };
}

function portProblem(
  what: string,
  port: number,
  setting: string,
  cfg: SuiteConfig,
  err: NodeJS.ErrnoException,
): string {
  if (err.code === 'EADDRINUSE') {
    return `port ${port} for ${what} is already in use (another portcullis, or another program). Stop it, or set ${setting} to a free port in ${cfg.file.path}`;
  }
  return `${what} could not listen on port ${port}: ${err.message}`;
}

async function waitReady(apps: Array<{ name: AppName; url: string }>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (const a of apps) {
    for (;;) {
      const ok = await fetch(`${a.url}/health/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (Date.now() > until)
        throw new DaemonStartError(
          `${a.name} at ${a.url} did not become ready within ${timeoutMs / 1000} s; see its log lines above (\`portcullis logs\`)`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
