// The crypto helpers alone: the CLI must not load Nest just to read its config.
import { fingerprint, randomHex } from '@portcullis/auth/primitives';
import { ConfigFileError, permissionWarning, readConfigFile, setStringValue, writeFileAtomic } from './config-file';
import { ConfigLocation, LocateOptions, locateConfig } from './paths';
import { SuiteConfig, toSuiteConfig } from './suite-config';

export interface Loaded {
  location: ConfigLocation;
  config: SuiteConfig;
  /** Things the operator should fix; printed to stderr by the CLI, logged by the daemon. */
  warnings: string[];
}

export function loadSuiteConfig(opts: LocateOptions = {}): Loaded {
  const location = locateConfig(opts);
  return loadFrom(location, opts.env);
}

export function loadFrom(location: ConfigLocation, env: Record<string, string | undefined> = process.env): Loaded {
  const file = readConfigFile(location.path);
  const config = toSuiteConfig(file, env);
  const warnings: string[] = [];
  const w = permissionWarning(file, Boolean(config.apiKey || config.botControlSecret));
  if (w) warnings.push(w);
  return { location: { ...location, exists: file.exists }, config, warnings };
}

export interface EnsuredSecrets {
  loaded: Loaded;
  /** What was generated and saved, for the log: fingerprints only. */
  generated: Array<{ setting: string; fingerprint: string }>;
}

/**
 * Whoever starts first (CLI or daemon): a missing admin key (and bot-control secret) is
 * generated AND saved to the config file before anything uses it, so the daemon
 * and every later CLI call read the same value. The file is re-read just before
 * the write so a concurrent edit is not lost, and never written if it cannot be parsed.
 */
export function ensureSecrets(
  location: ConfigLocation,
  env: Record<string, string | undefined> = process.env,
): EnsuredSecrets {
  const generated: EnsuredSecrets['generated'] = [];
  let loaded = loadFrom(location, env);
  const wanted: Array<[section: string, key: string, present: (c: SuiteConfig) => boolean]> = [
    ['daemon', 'api_key', (c) => Boolean(c.apiKey)],
    ['bot_control', 'shared_secret', (c) => Boolean(c.botControlSecret)],
  ];
  for (const [section, key, present] of wanted) {
    if (present(loaded.config)) continue;
    const file = readConfigFile(location.path);
    const value = randomHex(32);
    writeFileAtomic(location.path, setStringValue(file, section, key, value));
    loaded = loadFrom({ ...location, exists: true }, env);
    const saved = section === 'daemon' ? loaded.config.apiKey : loaded.config.botControlSecret;
    if (saved !== value) {
      throw new ConfigFileError(
        location.path,
        `could not save [${section}] ${key} to ${location.path}: the file changed while it was being written; run the command again`,
      );
    }
    generated.push({ setting: `[${section}] ${key}`, fingerprint: fingerprint(value) });
  }
  return { loaded, generated };
}
