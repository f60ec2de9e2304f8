import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where a room secret came from, in resolution order; 'none' means legacy mode (no PSK). */
export type RoomSecretSource = 'flag' | 'env' | 'file' | 'credentials' | 'none';

export interface ResolvedRoomSecret {
  secret?: string;
  source: RoomSecretSource;
  /** Which flag, variable or file won (never the value). */
  location?: string;
  warnings: string[];
}

export interface ResolveOptions {
  roomId: string;
  /** --room-secret */
  flag?: string;
  env?: Record<string, string | undefined>;
  home?: string;
}

/** Room ids become file names and variable names: letters, digits, '-', '_' and '.' only (no path tricks). */
export function assertSafeRoomId(roomId: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(roomId) || roomId.includes('..')) {
    throw new Error(`invalid room id: use letters, digits, '.', '-' and '_' only`);
  }
}

/** PORTCULLIS_ROOM_SECRET_<ROOM_ID>: upper-cased, every non-alphanumeric as '_' ("abc-123-def" -> ..._ABC_123_DEF). */
export function roomSecretEnvName(roomId: string): string {
  return `PORTCULLIS_ROOM_SECRET_${roomId.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

export function portcullisHome(home = homedir()): string {
  return join(home, '.portcullis');
}

export function roomSecretFile(roomId: string, home?: string): string {
  return join(portcullisHome(home), 'secrets', roomId);
}

export function credentialsFile(home?: string): string {
  return join(portcullisHome(home), 'credentials.json');
}

function trimmed(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const t = v.replace(/\s+$/, '');
  return t.length ? t : undefined;
}

function permissionWarning(path: string): string | undefined {
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077) {
    return `WARNING: ${path} is readable by other users (mode ${mode.toString(8).padStart(4, '0')}); run: chmod 600 ${path}`;
  }
  return undefined;
}

function readCredentials(path: string): Record<string, unknown> {
  const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
  return parsed as Record<string, unknown>;
}

/**
 * The resolution order; the first non-empty value wins:
 *   1. --room-secret   2. PORTCULLIS_ROOM_SECRET_<ROOM_ID>   3. ~/.portcullis/secrets/<room_id>
 *   4. ~/.portcullis/credentials.json -> room_secrets.<room_id>
 * Trailing whitespace (the newline `echo` adds) is trimmed.
 */
export function resolveRoomSecret(o: ResolveOptions): ResolvedRoomSecret {
  assertSafeRoomId(o.roomId);
  const env = o.env ?? process.env;
  const warnings: string[] = [];
  const flag = trimmed(o.flag);
  if (flag) return { secret: flag, source: 'flag', location: '--room-secret', warnings };
  const envName = roomSecretEnvName(o.roomId);
  const fromEnv = trimmed(env[envName]);
  if (fromEnv) return { secret: fromEnv, source: 'env', location: envName, warnings };
  const file = roomSecretFile(o.roomId, o.home);
  if (existsSync(file)) {
    const v = trimmed(readFileSync(file, 'utf8'));
    if (v) {
      const w = permissionWarning(file);
      if (w) warnings.push(w);
      return { secret: v, source: 'file', location: file, warnings };
    }
  }
  const creds = credentialsFile(o.home);
  if (existsSync(creds)) {
    try {
      const rs = readCredentials(creds).room_secrets as Record<string, unknown> | undefined;
      const v = trimmed(rs && typeof rs === 'object' ? rs[o.roomId] : undefined);
      if (v) {
        const w = permissionWarning(creds);
        if (w) warnings.push(w);
        return { secret: v, source: 'credentials', location: `${creds} -> room_secrets.${o.roomId}`, warnings };
      }
    } catch {
      warnings.push(`WARNING: ${creds} is not valid JSON; its room secrets were ignored`);
    }
  }
  return { source: 'none', warnings };
}

/** 32 random bytes as 64 hex characters, the room secret format. */
export function generateRoomSecret(): string {
  return randomBytes(32).toString('hex');
}

/**
 * Stores a room secret in ~/.portcullis/credentials.json (room_secrets.<room_id>), keeping the
 * file's other keys; written to a temporary file at 0600 and renamed, so no reader sees half a file.
 */
export function saveRoomSecret(roomId: string, secret: string, home?: string): string {
  assertSafeRoomId(roomId);
  const path = credentialsFile(home);
  mkdirSync(portcullisHome(home), { recursive: true, mode: 0o700 });
  const data = existsSync(path) ? readCredentials(path) : {};
  const rs =
    data.room_secrets && typeof data.room_secrets === 'object' ? (data.room_secrets as Record<string, unknown>) : {};
  data.room_secrets = { ...rs, [roomId]: secret };
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
  return path;
}
