import { readFileSync } from 'node:fs';
import { DeviceClient, DeviceClientEvent, DeviceCredentialsRefused } from './device-client';

/**
 * The Pi-style device entry point, built on DeviceClient:
 *
 *   node dist/libs/device-client/src/pi-client.js [config/device_config.json]
 *
 * The config file holds device_id, device_secret (or set DEVICE_SECRET instead),
 * proxy_url and vapi_assistant_id. It authenticates (retrying with backoff while
 * device-auth is unavailable or throttling), starts a call through the proxy, keeps
 * its token fresh, and ends the call on SIGINT/SIGTERM. When its credentials are
 * refused repeatedly it says so and exits with status 3 instead of retrying forever.
 */
interface PiConfig {
  device_id: string;
  device_secret?: string;
  proxy_url: string;
  vapi_assistant_id: string;
  assistant_overrides?: Record<string, unknown>;
}

function describe(e: DeviceClientEvent): string {
  switch (e.type) {
    case 'error':
      return `error: ${e.message}`;
    case 'retry_scheduled':
      return `retrying in ${Math.round(e.inMs / 1000)} s (attempt ${e.attempt}${e.status ? `, last answer ${e.status}` : ', no answer'})`;
    case 'stopped':
      return `stopped: device-auth refused this device's credentials ${e.refusals} times in a row (revoked, or the secret is wrong); not retrying`;
    default:
      return e.type;
  }
}

async function main(): Promise<void> {
  const path = process.argv[2] ?? process.env.DEVICE_CONFIG ?? 'config/device_config.json';
  const cfg = JSON.parse(readFileSync(path, 'utf8')) as PiConfig;
  const secret = process.env.DEVICE_SECRET ?? cfg.device_secret;
  if (!cfg.device_id || !secret || !cfg.proxy_url || !cfg.vapi_assistant_id) {
    throw new Error(
      `${path}: device_id, device_secret (or DEVICE_SECRET), proxy_url and vapi_assistant_id are required`,
    );
  }
  const say = (msg: string) => process.stdout.write(`${new Date().toISOString()} ${msg}\n`);
  const client = new DeviceClient({
    baseUrl: cfg.proxy_url,
    deviceId: cfg.device_id,
    deviceSecret: secret,
    onEvent: (e) => say(describe(e)),
  });
  await client.start();
  say(`authenticated as ${cfg.device_id}`);
  const call = await client.startCall(
    cfg.vapi_assistant_id,
    cfg.assistant_overrides ?? { firstMessageMode: 'assistant-speaks-first' },
  );
  say(`call started: ${String(call.id)}${call.webCallUrl ? ` (${String(call.webCallUrl)})` : ''}`);
  const keepAlive = setInterval(() => undefined, 60_000);
  const end = async () => {
    clearInterval(keepAlive);
    try {
      await client.stopCall(String(call.id));
      say('call ended');
    } finally {
      client.stop();
      process.exit(0);
    }
  };
  process.once('SIGINT', () => void end());
  process.once('SIGTERM', () => void end());
}

main().catch((err: unknown) => {
  process.stderr.write(`pi-client: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof DeviceCredentialsRefused ? 3 : 1);
});
