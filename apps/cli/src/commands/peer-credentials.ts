import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { cliContext, GlobalOptions } from './context';
import { CliError, ExitCode } from './exit-codes';

/**
 * How a signaling peer (room commands, worker, client) proves who it is to room-gateway:
 * it is a device registered in device-auth (`portcullis device register`), and trades its
 * device_id + device_secret for a short-lived access token there.
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
    .option('--device-id <id>', 'this peer\'s device id (default: $PORTCULLIS_DEVICE_ID)')
    .option('--device-secret-file <path>', 'file holding the device secret (default: $PORTCULLIS_DEVICE_SECRET)')
    .option('--device-auth-url <url>', 'device-auth base URL (default: $PORTCULLIS_DEVICE_AUTH_URL, else the suite in the config file)')
    .option('--server <url>', 'room-gateway base URL (default: $PORTCULLIS_SIGNALING_URL, else the suite in the config file)');
}

export interface PeerSession {
  deviceId: string;
  serverUrl: string;
  /** A valid device token now (refreshed in the background by the device client). */
  token(): Promise<string>;
  onRefresh(fn: (token: string) => void): void;
  stop(): void;
}

export async function peerSession(o: PeerOptions, globals: GlobalOptions, env = process.env): Promise<PeerSession> {
  const deviceId = o.deviceId ?? env.PORTCULLIS_DEVICE_ID;
  if (!deviceId) throw new CliError(ExitCode.usage, 'no device id: pass --device-id or set PORTCULLIS_DEVICE_ID (register one with `portcullis device register`)');
  let secret = env.PORTCULLIS_DEVICE_SECRET;
  if (o.deviceSecretFile) {
    try {
      secret = readFileSync(o.deviceSecretFile, 'utf8').trim();
    } catch {
      throw new CliError(ExitCode.usage, `cannot read --device-secret-file ${o.deviceSecretFile}`);
    }
  }
  if (!secret) throw new CliError(ExitCode.usage, 'no device secret: pass --device-secret-file or set PORTCULLIS_DEVICE_SECRET');
  let deviceAuthUrl = o.deviceAuthUrl ?? env.PORTCULLIS_DEVICE_AUTH_URL;
  let serverUrl = o.server ?? env.PORTCULLIS_SIGNALING_URL;
  if (!deviceAuthUrl || !serverUrl) {
    const ctx = cliContext(globals);
    deviceAuthUrl ??= ctx.appUrl('device-auth');
    serverUrl ??= ctx.appUrl('room-gateway');
  }
  const { DeviceClient } = await import('@portcullis/device-client');
  const listeners: Array<(t: string) => void> = [];
  const client = new DeviceClient({
    baseUrl: deviceAuthUrl.replace(/\/+$/, ''),
    deviceId,
    deviceSecret: secret,
    onEvent: (e) => {
      if (e.type === 'refreshed' || e.type === 'authenticated') void client.token().then((t) => listeners.forEach((fn) => fn(t)));
    },
  });
  try {
    await client.start();
  } catch (err) {
    const status = (err as { status?: number }).status;
    if (status === 401) throw new CliError(ExitCode.auth, `device-auth refused device ${deviceId}: check the device id and secret (or whether the device was revoked)`);
    throw new CliError(ExitCode.unreachable, `cannot get a device token from device-auth at ${deviceAuthUrl}: ${status ? `HTTP ${status}` : 'not reachable'}`);
  }
  return {
    deviceId,
    serverUrl: serverUrl.replace(/\/+$/, ''),
    token: () => client.token(),
    onRefresh: (fn) => listeners.push(fn),
    stop: () => client.stop(),
  };
}

/** One JSON call to the signaling API with the device token; errors become CliErrors without any credential. */
export async function signalingCall<T>(peer: PeerSession, method: string, path: string, json?: unknown, notFound?: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${peer.serverUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${await peer.token()}`, accept: 'application/json', ...(json !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: json !== undefined ? JSON.stringify(json) : undefined,
      signal: AbortSignal.timeout(30000),
    });
  } catch {
    throw new CliError(ExitCode.unreachable, `cannot reach room-gateway at ${peer.serverUrl}`);
  }
  const text = await res.text();
  let body: { detail?: unknown } | undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (res.ok) return body as T;
  const detail = typeof body?.detail === 'string' ? body.detail : Array.isArray(body?.detail) ? body.detail.join('; ') : `HTTP ${res.status}`;
  if (res.status === 401) throw new CliError(ExitCode.auth, `room-gateway refused: ${detail}`);
  if (res.status === 403) throw new CliError(ExitCode.auth, `room-gateway refused: ${detail}`);
  if (res.status === 404) throw new CliError(ExitCode.notFound, notFound ?? detail);
  if (res.status < 500) throw new CliError(ExitCode.rejected, `room-gateway rejected the request (${res.status}): ${detail}`);
  throw new CliError(ExitCode.server, `room-gateway failed (${res.status}): ${detail}`);
}
