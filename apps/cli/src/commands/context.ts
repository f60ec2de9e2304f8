import { fingerprint } from '@portcullis/auth/primitives';
import { AppName, ConfigFileError, Loaded, loadSuiteConfig } from '../config';
import { DaemonState, isAlive, readState } from '../runner/state';
import { CliError, ExitCode } from './exit-codes';

/** The admin-key strategy's header (libs/auth); repeated here so commands start without loading Nest. */
export const ADMIN_KEY_HEADER = 'x-portcullis-api-key';

export interface GlobalOptions {
  config?: string;
  json?: boolean;
}

export interface CliContext {
  loaded: Loaded;
  json: boolean;
  /** The running daemon's published state, when one runs for this config's data directory. */
  daemon?: DaemonState;
  appUrl(name: AppName): string;
}

/** Reads the config file the way the daemon does (same search order, same overrides). */
export function cliContext(opts: GlobalOptions, env: Record<string, string | undefined> = process.env): CliContext {
  let loaded: Loaded;
  try {
    loaded = loadSuiteConfig({ flag: opts.config, env });
  } catch (err) {
    if (err instanceof ConfigFileError) throw new CliError(ExitCode.config, err.message);
    throw err;
  }
  for (const w of loaded.warnings) process.stderr.write(`${w}\n`);
  const state = readState(loaded.config.dataDir);
  const daemon = state && isAlive(state.pid) ? state : undefined;
  const cfg = loaded.config;
  return {
    loaded,
    json: Boolean(opts.json),
    daemon,
    appUrl(name) {
      const fromState = daemon?.apps.find((a) => a.name === name)?.url;
      if (fromState) return fromState;
      const host = cfg.host === '0.0.0.0' || cfg.host === '::' ? '127.0.0.1' : cfg.host;
      return `http://${host}:${cfg.ports[name]}`;
    },
  };
}

/** The admin key from the config file; without one, say how to get one. */
export function requireApiKey(ctx: CliContext): string {
  const key = ctx.loaded.config.apiKey;
  if (!key) {
    throw new CliError(
      ExitCode.auth,
      `no admin API key in ${ctx.loaded.location.path} ([daemon] api_key). Run \`portcullis start\`: it generates one and saves it there before starting the daemon.`,
    );
  }
  return key;
}

export function keyFingerprint(key: string | undefined): string {
  return key ? fingerprint(key) : '(none)';
}
