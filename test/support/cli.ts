import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { processAlive, waitFor } from './http';

export const ROOT = resolve(__dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'portcullis');
export const MAIN_JS = join(ROOT, 'dist', 'apps', 'cli', 'src', 'main.js');
/** The daemon's own entry point, for starting it the way a service manager would (not via `portcullis start`). */
export const DAEMON_JS = join(ROOT, 'dist', 'apps', 'cli', 'src', 'daemon-main.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A throwaway HOME and working directory, so each test file has its own config, data dir and daemon. */
export class Sandbox {
  readonly root = mkdtempSync(join(tmpdir(), 'portcullis-cli-'));
  readonly home = join(this.root, 'home');
  readonly cwd = join(this.root, 'work');
  private readonly spawned: ChildProcess[] = [];
  /** Everything any CLI/daemon process printed, to scan for secrets. */
  readonly output: string[] = [];

  constructor() {
    mkdirSync(this.home, { recursive: true });
    mkdirSync(this.cwd, { recursive: true });
  }

  get dataDir(): string {
    return join(this.home, '.local', 'share', 'portcullis');
  }

  get userConfig(): string {
    return join(this.home, '.config', 'portcullis', 'portcullis.toml');
  }

  env(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: this.home };
    // The embedded defaults are under test: the real engines only where a test asks for them.
    for (const k of ['NATS_URL', 'DATABASE_URL', 'PORTCULLIS_CONFIG', 'XDG_DATA_HOME', 'PORT']) delete env[k];
    for (const [k, v] of Object.entries(extra)) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    return env;
  }

  /** Runs `bin/portcullis ARGS` to completion. */
  run(
    args: string[],
    opts: { cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number } = {},
  ): Promise<CliResult> {
    return new Promise((resolvePromise, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], {
        cwd: opts.cwd ?? this.cwd,
        env: this.env(opts.env),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`portcullis ${args.join(' ')} did not finish in time; stderr: ${stderr}`));
      }, opts.timeoutMs ?? 60000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        this.output.push(stdout, stderr);
        if (/Cannot find module '(@portcullis|\.{1,2}\/|\/.*dist\/)/.test(stderr)) {
          // Not a product failure: dist/ was rebuilt under the test (a concurrent `npm run build` in this tree).
          reject(
            new Error(
              `dist/ changed while portcullis ${args.join(' ')} ran (concurrent build?): ${stderr.slice(0, 400)}`,
            ),
          );
          return;
        }
        resolvePromise({ code: code ?? -1, stdout, stderr });
      });
    });
  }

  /** Starts a long-running process (a foreground or directly started daemon), collecting its output. */
  spawnDaemon(
    args: string[],
    opts: { cwd?: string; env?: Record<string, string | undefined> } = {},
  ): { child: ChildProcess; out: () => string } {
    const child = spawn(process.execPath, args, {
      cwd: opts.cwd ?? this.cwd,
      env: this.env(opts.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', () => this.output.push(out));
    this.spawned.push(child);
    return { child, out: () => out };
  }

  /** Stops any daemon this sandbox started (background ones through their pid file), then removes the files. */
  async cleanup(): Promise<void> {
    const running = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;
    for (const c of this.spawned) if (running(c)) c.kill('SIGTERM');
    try {
      const pid = Number(readFileSync(join(this.dataDir, 'portcullis.pid'), 'utf8'));
      if (pid && processAlive(pid)) process.kill(pid, 'SIGTERM');
      await waitFor(() => !processAlive(pid), 20000).catch(() => process.kill(pid, 'SIGKILL'));
    } catch {
      /* no background daemon */
    }
    await Promise.all(
      this.spawned.map((c) => (running(c) ? new Promise((r) => c.once('exit', r)) : Promise.resolve())),
    );
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** A config that puts every listener on a free port (port 0), so test files run side by side. */
export function freePortsToml(extra = ''): string {
  return [
    '[daemon]',
    'ipc_port = 0',
    '',
    '[ports]',
    'interface_proxy = 0',
    'bot_control = 0',
    'device_auth = 0',
    'room_gateway = 0',
    '',
    extra,
  ].join('\n');
}

export function writeText(path: string, text: string, mode = 0o600): void {
  mkdirSync(resolve(path, '..'), { recursive: true });
  writeFileSync(path, text, { mode });
}

export function readDaemonState(dataDir: string):
  | {
      pid: number;
      ready: boolean;
      control_url: string;
      key_fingerprint: string;
      config_file: string;
      apps: Array<{ name: string; url: string }>;
    }
  | undefined {
  try {
    return JSON.parse(readFileSync(join(dataDir, 'daemon.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

export function apiKeyIn(tomlText: string): string | undefined {
  return /^\s*api_key\s*=\s*"([^"]+)"/m.exec(tomlText)?.[1];
}
