import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { NATS_URL } from './env';
import { AppProcess, freePort, ROOT, supervise } from './processes';

export type VerifierProcess = AppProcess;

/** Starts test/support/device-auth-verifier-app.ts in its own process and waits for readiness. */
export async function spawnVerifier(
  deviceAuthUrl: string,
  issuer: string,
  audience: string,
  port?: number,
): Promise<AppProcess> {
  const p = port ?? (await freePort());
  const child = spawn(
    process.execPath,
    ['-r', join(__dirname, 'device-auth-register.js'), join(__dirname, 'device-auth-verifier-app.ts')],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        PORT: String(p),
        NATS_URL,
        DEVICE_AUTH_URL: deviceAuthUrl,
        DEVICE_AUTH_ISSUER: issuer,
        DEVICE_AUTH_AUDIENCE: audience,
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return supervise(child, 'verifier', p, 30000);
}
