import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { waitFor } from './http';

export const ROOT = join(__dirname, '..', '..');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface AppProcess {
  child: ChildProcess;
  url: string;
  port: number;
  output: string[];
  /** Resolves with how it ended: an exit code, or the signal re-raised after a graceful shutdown. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs a built app (`npm test` builds first) as a real child process and waits
 * until its readiness endpoint answers (15 s unless `readyWithinMs` says longer).
 */
export async function spawnApp(
  app: string,
  env: Record<string, string>,
  opts: { port?: number; readyWithinMs?: number } = {},
): Promise<AppProcess> {
  const p = opts.port ?? (await freePort());
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'apps', app, 'src', 'main.js')], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      HOST: '127.0.0.1',
      PORT: String(p),
      LOG_LEVEL: 'debug',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return supervise(child, app, p, opts.readyWithinMs ?? 15000);
}

/**
 * Collects a child's output and waits until its readiness endpoint on 127.0.0.1:port answers; a
 * child that does not come up in time is killed rather than left behind.
 */
export async function supervise(
  child: ChildProcess,
  name: string,
  port: number,
  timeoutMs: number,
): Promise<AppProcess> {
  const output: string[] = [];
  child.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once('exit', (code, sig) => r({ code, signal: sig })),
  );
  const url = `http://127.0.0.1:${port}`;
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`${name} exited: ${output.join('')}`);
        return (await fetch(`${url}/health/ready`)).ok;
      },
      timeoutMs,
      50,
    );
  } catch (err) {
    await stop('SIGKILL');
    throw err;
  }
  return { child, url, port, output, stop };
}
