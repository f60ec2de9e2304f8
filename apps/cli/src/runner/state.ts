import { mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../config';
import type { AppName } from '../config';

/** Files the daemon keeps under the data directory (all mode 0600). */
export function runtimePaths(dataDir: string): { pid: string; log: string; state: string } {
  return {
    pid: join(dataDir, 'portcullis.pid'),
    log: join(dataDir, 'portcullis.log'),
    state: join(dataDir, 'daemon.json'),
  };
}

/**
 * What a running daemon publishes for the CLI (`daemon.json`): where it is, which
 * config file it read, and the fingerprint (never the value) of the key it accepts.
 */
export interface DaemonState {
  pid: number;
  config_file: string;
  control_url: string;
  started_at: string;
  ready: boolean;
  key_fingerprint: string;
  apps: Array<{ name: AppName; url: string }>;
  /** Apps the registry does not know yet or the config left out. */
  not_started: Array<{ name: AppName; reason: string }>;
}

export function writeState(dataDir: string, state: DaemonState): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileAtomic(runtimePaths(dataDir).state, `${JSON.stringify(state, null, 2)}\n`);
}

export function readState(dataDir: string): DaemonState | undefined {
  try {
    return JSON.parse(readFileSync(runtimePaths(dataDir).state, 'utf8')) as DaemonState;
  } catch {
    return undefined;
  }
}

export function readPid(dataDir: string): number | undefined {
  try {
    const n = Number(readFileSync(runtimePaths(dataDir).pid, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}
