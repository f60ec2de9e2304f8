import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { waitFor } from './http';
import { freePort } from './processes';

const NATS_SERVER = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';

export interface ClusterRoute {
  /** The cluster's name (the same on every node). */
  name: string;
  /** This node's cluster port. */
  port: number;
  /** Every node's cluster port, this one included. */
  routes: number[];
}

/**
 * A private nats-server with JetStream on a free port and a temporary store,
 * for tests that stop, kill or restart NATS (never the shared one on 4222).
 */
export class NatsServer {
  private child?: ChildProcess;
  private readonly output: string[] = [];
  storeDir: string;

  private constructor(
    readonly port: number,
    readonly name: string,
    private readonly cluster?: ClusterRoute,
  ) {
    this.storeDir = mkdtempSync(join(tmpdir(), `pc-nats-${name}-`));
  }

  static async start(opts: { name?: string; port?: number; cluster?: ClusterRoute } = {}): Promise<NatsServer> {
    const s = new NatsServer(opts.port ?? (await freePort()), opts.name ?? 'n1', opts.cluster);
    await s.launch();
    if (!opts.cluster) await s.waitJetStream();
    return s;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return Boolean(this.child && this.child.exitCode === null && this.child.signalCode === null);
  }

  get log(): string {
    return this.output.join('');
  }

  private async launch(): Promise<void> {
    const args = ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir, '-n', this.name];
    if (this.cluster) {
      args.push('--cluster_name', this.cluster.name, '--cluster', `nats://127.0.0.1:${this.cluster.port}`);
      args.push(
        '--routes',
        this.cluster.routes
          .filter((p) => p !== this.cluster!.port)
          .map((p) => `nats://127.0.0.1:${p}`)
          .join(','),
      );
    }
    const child = spawn(NATS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => this.output.push(d.toString()));
    child.stderr?.on('data', (d: Buffer) => this.output.push(d.toString()));
    this.child = child;
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`nats-server ${this.name} exited: ${this.log.slice(-2000)}`);
        const nc = await connect({ servers: this.url, reconnect: false, timeout: 500 });
        await nc.close();
        return true;
      },
      10000,
      50,
    );
  }

  /** Until this server's JetStream answers API requests (a cluster needs its meta leader first). */
  async waitJetStream(timeoutMs = 15000): Promise<void> {
    await waitFor(
      async () => {
        const nc = await connect({ servers: this.url, reconnect: false, timeout: 500 });
        try {
          await (await nc.jetstreamManager({ timeout: 1000 })).getAccountInfo();
          return true;
        } finally {
          await nc.close();
        }
      },
      timeoutMs,
      100,
    );
  }

  private async exit(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  }

  /** The process dies at once: no goodbye to clients, nothing flushed beyond what the OS already has. */
  kill9(): Promise<void> {
    return this.exit('SIGKILL');
  }

  /** A graceful stop (clients see the connection close). */
  stop(): Promise<void> {
    return this.exit('SIGTERM');
  }

  /** Starts again on the same port: with the same store, or an empty one (every bucket gone). */
  async restart(opts: { emptyStore?: boolean } = {}): Promise<void> {
    if (this.running) await this.stop();
    if (opts.emptyStore) {
      rmSync(this.storeDir, { recursive: true, force: true });
      this.storeDir = mkdtempSync(join(tmpdir(), `pc-nats-${this.name}-`));
    }
    await this.launch();
    if (!this.cluster) await this.waitJetStream();
  }

  async close(): Promise<void> {
    await this.exit('SIGKILL');
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}

/** Three (or `size`) nats-server processes routed into one JetStream cluster. */
export class NatsCluster {
  private constructor(readonly nodes: NatsServer[]) {}

  static async start(size = 3): Promise<NatsCluster> {
    const clusterPorts: number[] = [];
    for (let i = 0; i < size; i++) clusterPorts.push(await freePort());
    const name = `pc-${Date.now().toString(36)}`;
    const nodes = await Promise.all(
      clusterPorts.map((port, i) =>
        NatsServer.start({ name: `n${i + 1}`, cluster: { name, port, routes: clusterPorts } }),
      ),
    );
    const cluster = new NatsCluster(nodes);
    await Promise.all(nodes.map((n) => n.waitJetStream(30000)));
    return cluster;
  }

  /** NATS_URL for an app: every node, comma-separated. */
  get url(): string {
    return this.nodes.map((n) => n.url).join(',');
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.close()));
  }
}
