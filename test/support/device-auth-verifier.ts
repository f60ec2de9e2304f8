import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { NATS_URL } from './env';
import { waitFor } from './http';
import { ChildProcess } from 'node:child_process';
import { freePort, ROOT } from './processes';

export interface VerifierProcess {
  child: ChildProcess;
  url: string;
  port: number;
  output: string[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts test/support/device-auth-verifier-app.ts in its own process and waits for readiness. */
export async function spawnVerifier(deviceAuthUrl: string, issuer: string, audience: string, port?: number): Promise<VerifierProcess> {
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
  const output: string[] = [];
  child.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = `http://127.0.0.1:${p}`;
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`verifier exited: ${output.join('')}`);
    return (await fetch(`${url}/health/ready`)).ok;
  }, 30000, 50);
  return {
    child,
    url,
    port: p,
    output,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}
