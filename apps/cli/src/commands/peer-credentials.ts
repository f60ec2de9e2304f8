import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { cliContext, GlobalOptions } from './context';
import { CliError, ExitCode } from './exit-codes';

/**
 * How a signaling peer (room commands, worker, client) proves who it is to room-gateway:
 * it is a device registered in device-auth (`portcullis device register`), and trades its
 * device_id + device_secret for a short-lived access token there (cached: see tokenCache).
 *
 *   device id:      --device-id, else PORTCULLIS_DEVICE_ID
 *   device secret:  --device-secret-file <path>, else PORTCULLIS_DEVICE_SECRET (never a flag value: shell history)
 *   device-auth:    --device-auth-url, else PORTCULLIS_DEVICE_AUTH_URL, else the suite's from the config file
 *   room-gateway:   --server, else PORTCULLIS_SIGNALING_URL, else the suite's from the config file
 */
export interface PeerOptions {
  deviceId?: string;
  deviceSecretFile?: string;
  deviceAuthUrl?: string;
  server?: string;
}

export function addPeerOptions(cmd: Command): Command {
  return cmd
    .option('--device-id <id>', "this peer's device id (default: $PORTCULLIS_DEVICE_ID)")
    .option('--device-secret-file <path>', 'file holding the device secret (default: $PORTCULLIS_DEVICE_SECRET)')
    .option(
      '--device-auth-url <url>',
      'device-auth base URL (default: $PORTCULLIS_DEVICE_AUTH_URL, else the suite in the config file)',
    )
    .option(
      '--server <url>',
      'room-gateway base URL (default: $PORTCULLIS_SIGNALING_URL, else the suite in the config file)',
    );
}

export interface PeerSession {
  deviceId: string;
  serverUrl: string;
  /** A device token valid for at least two more minutes. */
  token(): Promise<string>;
  /** Calls fn with each new token (checked every 30 s) while a long-running peer holds a socket open. */
  onRefresh(fn: (token: string) => void): void;
  /** Forget the held token (room-gateway refused it: revoked, or signed by a rotated-out key); the next call signs in. */
  invalidate(): void;
  stop(): void;
}

const MIN_VALIDITY_MS = 120_000;

/**
 * Device tokens are cached in ~/.portcullis/device-tokens.json (0600) so that a run of CLI commands
 * signs in once, not once per command (device-auth allows 5 sign-ins a minute per device). An entry
 * is used only for the same device-auth URL, device id and secret (kept as a SHA-256: the secret is
 * 256 random bits, so the digest cannot be reversed).
 */
function tokenCache(home = homedir()) {
  const path = join(home, '.portcullis', 'device-tokens.json');
  const read = (): Record<string, { access_token: string; expires_at: number; secret_sha256: string }> => {
    try {
      return JSON.parse(readFileSync(path, 'utf8'));
    } catch {
      return {};
    }
  };
  return {
    get(key: string, secretSha: string): { token: string; expiresAt: number } | undefined {
      const e = read()[key];
      return e && e.secret_sha256 === secretSha && typeof e.access_token === 'string'
        ? { token: e.access_token, expiresAt: e.expires_at }
        : undefined;
    },
    put(key: string, secretSha: string, token: string, expiresAt: number): void {
      try {
        const all = read();
        for (const [k, v] of Object.entries(all)) if (!(v?.expires_at > Date.now())) delete all[k];
        all[key] = { access_token: token, expires_at: expiresAt, secret_sha256: secretSha };
        mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
        const tmp = `${path}.${process.pid}.tmp`;
        writeFileSync(tmp, JSON.stringify(all), { mode: 0o600 });
        renameSync(tmp, path);
      } catch {
        /* a cache only: the next command signs in again */
      }
    },
  };
}

export async function peerSession(o: PeerOptions, globals: GlobalOptions, env = process.env): Promise<PeerSession> {
  const deviceId = o.deviceId ?? env.PORTCULLIS_DEVICE_ID;
  if (!deviceId)
    throw new CliError(
      ExitCode.usage,
      'no device id: pass --device-id or set PORTCULLIS_DEVICE_ID (register one with `portcullis device register`)',
    );
  let secret = env.PORTCULLIS_DEVICE_SECRET;
  if (o.deviceSecretFile) {
    try {
      secret = readFileSync(o.deviceSecretFile, 'utf8').trim();
    } catch {
      throw new CliError(ExitCode.usage, `cannot read --device-secret-file ${o.deviceSecretFile}`);
    }
  }
  if (!secret)
    throw new CliError(ExitCode.usage, 'no device secret: pass --device-secret-file or set PORTCULLIS_DEVICE_SECRET');
  let deviceAuthUrl = o.deviceAuthUrl ?? env.PORTCULLIS_DEVICE_AUTH_URL;
  let serverUrl = o.server ?? env.PORTCULLIS_SIGNALING_URL;
  if (!deviceAuthUrl || !serverUrl) {
    const ctx = cliContext(globals);
    deviceAuthUrl ??= ctx.appUrl('device-auth');
    serverUrl ??= ctx.appUrl('room-gateway');
  }
  const baseUrl = deviceAuthUrl.replace(/\/+$/, '');
  const cache = tokenCache();
  const cacheKey = `${baseUrl} ${deviceId}`;
  const secretSha = createHash('sha256').update(secret).digest('hex');
  let current = cache.get(cacheKey, secretSha);
  let client: import('@portcullis/device-client').DeviceClient | undefined;
  const timers: NodeJS.Timeout[] = [];

  const token = async (): Promise<string> => {
    if (current && current.expiresAt - Date.now() > MIN_VALIDITY_MS) return current.token;
    if (!client) {
      const { DeviceClient } = await import('@portcullis/device-client');
      client = new DeviceClient({ baseUrl, deviceId, deviceSecret: secret });
    }
    let t: string;
    try {
      t = await client.token();
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (status === 401)
        throw new CliError(
          ExitCode.auth,
          `device-auth refused device ${deviceId}: check the device id and secret (or whether the device was revoked)`,
        );
      if (status === 429)
        throw new CliError(
          ExitCode.rejected,
          `device-auth is rate-limiting sign-ins of device ${deviceId} (HTTP 429); wait a minute and retry`,
        );
      throw new CliError(
        ExitCode.unreachable,
        `cannot get a device token from device-auth at ${baseUrl}: ${status ? `HTTP ${status}` : 'not reachable'}`,
      );
    }
    current = { token: t, expiresAt: client.expiresAt ?? Date.now() };
    cache.put(cacheKey, secretSha, t, current.expiresAt);
    return t;
  };
  await token();
  return {
    deviceId,
    serverUrl: serverUrl.replace(/\/+$/, ''),
    token,
    onRefresh(fn) {
      let last = current?.token;
      const t = setInterval(() => {
        token().then(
          (tok) => tok !== last && ((last = tok), fn(tok)),
          () => undefined,
        );
      }, 30_000);
      t.unref();
      timers.push(t);
    },
    invalidate: () => {
      current = undefined;
      client = undefined;
    },
    stop: () => {
      for (const t of timers) clearInterval(t);
      client?.stop();
    },
  };
}

/** One JSON call to the signaling API with the device token; errors become CliErrors without any credential. */
export async function signalingCall<T>(
  peer: PeerSession,
  method: string,
  path: string,
  json?: unknown,
  notFound?: string,
): Promise<T> {
  const send = async () => {
    try {
      return await fetch(`${peer.serverUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${await peer.token()}`,
          accept: 'application/json',
          ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: json !== undefined ? JSON.stringify(json) : undefined,
        signal: AbortSignal.timeout(30000),
      });
    } catch (err) {
      if (err instanceof CliError) throw err;
      throw new CliError(ExitCode.unreachable, `cannot reach room-gateway at ${peer.serverUrl}`);
    }
  };
  let res = await send();
  // A cached token refused: sign in afresh once (device-auth then says whether the device itself is refused).
  if (res.status === 401) {
    await res.text();
    peer.invalidate();
    res = await send();
  }
  const text = await res.text();
  let body: { detail?: unknown } | undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (res.ok) return body as T;
  const detail =
    typeof body?.detail === 'string'
      ? body.detail
      : Array.isArray(body?.detail)
        ? body.detail.join('; ')
        : `HTTP ${res.status}`;
  if (res.status === 401) throw new CliError(ExitCode.auth, `room-gateway refused: ${detail}`);
  if (res.status === 403) throw new CliError(ExitCode.auth, `room-gateway refused: ${detail}`);
  if (res.status === 404) throw new CliError(ExitCode.notFound, notFound ?? detail);
  if (res.status < 500)
    throw new CliError(ExitCode.rejected, `room-gateway rejected the request (${res.status}): ${detail}`);
  throw new CliError(ExitCode.server, `room-gateway failed (${res.status}): ${detail}`);
}
