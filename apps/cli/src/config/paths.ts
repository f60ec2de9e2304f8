import { homedir } from 'node:os';
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';

const CONFIG_FILE_NAME = 'portcullis.toml';
const CONFIG_ENV = 'PORTCULLIS_CONFIG';

/** Where the config file path came from, shown by `portcullis status` and in 401 messages. */
type ConfigOrigin = 'flag' | 'env' | 'search' | 'default';

export interface ConfigLocation {
  path: string;
  origin: ConfigOrigin;
  exists: boolean;
}

export interface LocateOptions {
  /** `--config PATH` */
  flag?: string;
  env?: Record<string, string | undefined>;
  cwd?: string;
  home?: string;
}

/** The search order every process uses, so the daemon and the CLI find the same file. */
function searchPaths(cwd = process.cwd(), home = homedir()): string[] {
  return [
    join(cwd, CONFIG_FILE_NAME),
    join(home, '.config', 'portcullis', CONFIG_FILE_NAME),
    join(home, `.${CONFIG_FILE_NAME}`),
  ];
}

export function expandHome(p: string, home = homedir()): string {
  if (p === '~') return home;
  if (p.startsWith('~/')) return join(home, p.slice(2));
  return p;
}

/**
 * `--config` wins, then PORTCULLIS_CONFIG, then the first existing file of the
 * search order. With none found, the user config directory is where one is created.
 */
export function locateConfig(opts: LocateOptions = {}): ConfigLocation {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const home = opts.home ?? homedir();
  const explicit = opts.flag
    ? { p: opts.flag, origin: 'flag' as const }
    : env[CONFIG_ENV]
      ? { p: env[CONFIG_ENV], origin: 'env' as const }
      : undefined;
  if (explicit) {
    const p = expandHome(explicit.p, home);
    const path = isAbsolute(p) ? p : resolve(cwd, p);
    return { path, origin: explicit.origin, exists: existsSync(path) };
  }
  const candidates = searchPaths(cwd, home);
  const found = candidates.find((p) => existsSync(p));
  if (found) return { path: found, origin: 'search', exists: true };
  return { path: candidates[1], origin: 'default', exists: false };
}
