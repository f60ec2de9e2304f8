import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './processes';

const BIN = '/usr/lib/postgresql/15/bin';

/**
 * A throwaway Postgres cluster a test may stop and start at will (never the
 * shared one on 5432): initdb into a temp directory owned by the `postgres` OS
 * user (initdb refuses root), trust auth, a free port, its socket in the same
 * directory.
 */
export class PostgresCluster {
  readonly dir: string;
  readonly data: string;
  port = 0;
  running = false;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'pc-pg-'));
    this.data = join(this.dir, 'data');
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  async init(): Promise<void> {
    this.port = await freePort();
    chmodSync(this.dir, 0o755);
    chownSync(this.dir, uid('postgres'), gid('postgres'));
    this.asPostgres('initdb', '-D', this.data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8');
  }

  start(): void {
    // -w: return once the server accepts connections. fsync off: nothing here needs to survive a crash.
    this.asPostgres(
      'pg_ctl',
      '-D',
      this.data,
      '-w',
      '-l',
      join(this.dir, 'log'),
      '-o',
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      'start',
    );
    this.running = true;
  }

  /** `fast` disconnects sessions cleanly; `immediate` is a crash as far as clients can tell. */
  stop(mode: 'fast' | 'immediate' = 'fast'): void {
    this.asPostgres('pg_ctl', '-D', this.data, '-w', '-m', mode, 'stop');
    this.running = false;
  }

  /** SIGSTOP (or SIGCONT) every process of the cluster: a server that accepts connections and never answers. */
  freeze(on: boolean): void {
    const postmaster = readFileSync(join(this.data, 'postmaster.pid'), 'utf8').split('\n')[0].trim();
    const children = execFileSync('pgrep', ['-P', postmaster]).toString().split('\n').filter(Boolean);
    for (const pid of [postmaster, ...children]) process.kill(Number(pid), on ? 'SIGSTOP' : 'SIGCONT');
  }

  destroy(): void {
    if (this.running) this.stop('immediate');
    rmSync(this.dir, { recursive: true, force: true });
  }

  private asPostgres(tool: string, ...args: string[]): void {
    execFileSync('runuser', ['-u', 'postgres', '--', join(BIN, tool), ...args], { stdio: 'pipe', cwd: '/' });
  }
}

function uid(user: string): number {
  return Number(execFileSync('id', ['-u', user]).toString().trim());
}

function gid(user: string): number {
  return Number(execFileSync('id', ['-g', user]).toString().trim());
}
