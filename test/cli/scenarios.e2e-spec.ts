import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { http, processAlive, waitFor } from '../support/http';
import { DAEMON_JS, Sandbox, apiKeyIn, freePortsToml, readDaemonState, writeText } from '../support/cli';

/**
 * CLI and daemon always agree on the admin key, whoever starts first: the real CLI binary
 * against a real daemon, each in its own sandbox (HOME, cwd, ports).
 */
describe('CLI and daemon agree on the admin key (both as real processes)', () => {
  let sb: Sandbox;
  beforeEach(() => {
    sb = new Sandbox();
  });
  afterEach(async () => {
    await sb.cleanup();
  });

  it('scenario 1: `portcullis start` saves the key before the daemon starts; CLI and daemon agree; a CLI on another file is told which file the daemon read', async () => {
    const path = join(sb.cwd, 'portcullis.toml');
    const dataDir = join(sb.root, 'data');
    writeText(path, freePortsToml(`[suite]\ndata_dir = "${dataDir}"\nlog_level = "warn"\n`));

    const started = await sb.run(['start'], { timeoutMs: 90000 });
    expect(started.code).toBe(0);
    const text = readFileSync(path, 'utf8');
    const key = apiKeyIn(text) as string;
    const botSecret = /shared_secret = "([^"]+)"/.exec(text)?.[1] as string;
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(started.stdout).toMatch(/device-auth\s+http:\/\/127\.0\.0\.1:\d+/);
    expect(started.stdout).toMatch(/bot-control\s+http:\/\/127\.0\.0\.1:\d+/);
    // The CLI generated and saved it; the daemon found it in the file and generated nothing.
    const log = () => readFileSync(join(dataDir, 'portcullis.log'), 'utf8');
    expect(log()).not.toContain('generated [daemon] api_key');

    const status = await sb.run(['--json', 'status']);
    expect(status.code).toBe(0);
    const s = JSON.parse(status.stdout);
    expect(s).toMatchObject({ running: true, key_matches: true, config_file: path, daemon_config_file: path });
    expect(s.cli_key_fingerprint).toBe(s.daemon_key_fingerprint);
    expect(s.apps.map((a: { health: string }) => a.health)).toEqual(s.apps.map(() => 'ready'));

    const reg = await sb.run(['--json', 'device', 'register', '--customer', 'acme', '--name', 'pi']);
    expect(reg.code).toBe(0);
    const listed = await sb.run(['--json', 'device', 'list']);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).devices.map((d: { device_id: string }) => d.device_id)).toContain(
      JSON.parse(reg.stdout).device_id,
    );
    const sessions = await sb.run(['bot', 'sessions']);
    expect(sessions.code).toBe(0);

    // Daemon and CLI reading different files: told so, not silently refused.
    const other = join(sb.root, 'other.toml');
    writeText(
      other,
      freePortsToml(`[suite]\ndata_dir = "${dataDir}"\n`).replace(
        '[daemon]\n',
        `[daemon]\napi_key = "${'b'.repeat(64)}"\n`,
      ),
    );
    const refused = await sb.run(['--config', other, 'device', 'list']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`this server reads its key from [daemon] api_key in ${path}`);
    expect(refused.stderr).toContain(`This CLI read ${other}`);
    const mismatch = await sb.run(['--config', other, 'status']);
    expect(mismatch.code).toBe(2);
    expect(mismatch.stdout).toContain('MISMATCH');

    const logs = await sb.run(['logs', '-n', '5']);
    expect(logs.code).toBe(0);
    expect(logs.stdout.trim().split('\n')).toHaveLength(5);

    expect((await sb.run(['stop'])).code).toBe(0);
    expect(readDaemonState(dataDir)).toBeUndefined();
    expect((await sb.run(['stop'])).stdout).toContain('not running');
    // Nothing printed or logged anywhere holds a key or secret: fingerprints only.
    for (const secret of [key, botSecret, 'b'.repeat(64)]) {
      expect(sb.output.join('\n')).not.toContain(secret);
      expect(log()).not.toContain(secret);
    }
    expect(log()).toContain(s.daemon_key_fingerprint);
  }, 120000);

  it('scenario 2: a daemon started directly (not via start) with no key generates one AND saves it, so the CLI authenticates', async () => {
    const path = sb.userConfig;
    writeText(path, freePortsToml(`[suite]\napps = ["bot-control"]\nlog_level = "warn"\n`));
    expect(apiKeyIn(readFileSync(path, 'utf8'))).toBeUndefined();

    const d = sb.spawnDaemon([DAEMON_JS]);
    await waitFor(() => d.child.exitCode !== null || readDaemonState(sb.dataDir)?.ready, 60000, 100);
    expect({ exitCode: d.child.exitCode, output: d.child.exitCode === null ? '' : d.out().slice(-800) }).toEqual({
      exitCode: null,
      output: '',
    });
    const state = readDaemonState(sb.dataDir)!;
    expect(state.pid).toBe(d.child.pid);
    const key = apiKeyIn(readFileSync(path, 'utf8')) as string;
    expect(key).toMatch(/^[0-9a-f]{64}$/);

    const status = await sb.run(['--json', 'status']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ key_matches: true, daemon_config_file: path });
    expect(
      (await http('GET', `${state.control_url}/daemon/status`, { headers: { 'x-portcullis-api-key': key } })).status,
    ).toBe(200);
    expect((await sb.run(['bot', 'sessions'])).code).toBe(0);

    // The daemon logged what it did, by fingerprint only.
    expect(d.out()).toMatch(
      new RegExp(`generated \\[daemon\\] api_key and saved it to ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
    );
    expect(d.out()).toContain(state.key_fingerprint);
    expect(d.out()).not.toContain(key);

    d.child.kill('SIGTERM');
    await waitFor(() => !processAlive(d.child.pid as number), 20000);
    expect(d.child.exitCode).toBe(0);
  }, 60000);
});
