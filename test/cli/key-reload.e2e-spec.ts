import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { http, waitFor } from '../support/http';
import { Sandbox, apiKeyIn, freePortsToml, readDaemonState, writeText } from '../support/cli';

/**
 * The key edited in the config file while
 * the daemon runs is picked up without a restart (by device-auth's admin guard and
 * the daemon's own endpoint), and the old key works only for the grace window.
 */
describe('admin key edited in the config file while the daemon runs', () => {
  const sb = new Sandbox();
  const opened: WebSocket[] = [];
  afterAll(async () => {
    for (const ws of opened) ws.terminate();
    await sb.cleanup();
  });

  it('the new key works at once, the old one until the grace window ends, both logged by fingerprint', async () => {
    const path = join(sb.cwd, 'portcullis.toml');
    const dataDir = join(sb.root, 'data');
    writeText(
      path,
      freePortsToml(
        `[suite]\ndata_dir = "${dataDir}"\nlog_level = "warn"\napps = ["device-auth", "interface-proxy"]\n`,
      ).replace('[daemon]\n', '[daemon]\nkey_grace_seconds = 8\nreload_poll_ms = 200\n'),
    );
    expect((await sb.run(['start'], { timeoutMs: 90000 })).code).toBe(0);
    const state = readDaemonState(dataDir)!;
    const deviceAuth = state.apps.find((a) => a.name === 'device-auth')!.url;
    const oldKey = apiKeyIn(readFileSync(path, 'utf8'))!;
    const admin = (key: string) =>
      http('GET', `${deviceAuth}/admin/devices`, { headers: { 'x-portcullis-api-key': key } });
    // The operator dashboard (interface-proxy) signs in with the same key and calls device-auth with it.
    const proxy = state.apps.find((a) => a.name === 'interface-proxy')!.url;
    const dashboardSignIn = async (key: string) => {
      const r = await http('POST', `${proxy}/dashboard/api/session`, { json: { api_key: key } });
      return { status: r.status, cookie: (r.headers.get('set-cookie') ?? '').split(';')[0] };
    };
    expect((await admin(oldKey)).status).toBe(200);

    // An operator's subscription to the daemon's events (websocket_enabled, admin key required).
    const wsUrl = `${state.control_url.replace('http', 'ws')}/daemon/events`;
    const refusedWs = await new Promise<number>((resolve) => {
      const bad = new WebSocket(wsUrl, { headers: { 'x-portcullis-api-key': 'nope' } });
      bad.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      bad.on('open', () => resolve(101));
    });
    expect(refusedWs).toBe(401);
    const events: Array<Record<string, unknown>> = [];
    const ws = new WebSocket(wsUrl, { headers: { 'x-portcullis-api-key': oldKey } });
    opened.push(ws);
    ws.on('message', (m) => events.push(JSON.parse(m.toString())));
    await waitFor(() => events.some((e) => e.type === 'hello'), 5000);

    // A hand edit (in place, as an editor might save it), not through the CLI.
    const newKey = randomBytes(32).toString('hex');
    writeFileSync(path, readFileSync(path, 'utf8').replace(oldKey, newKey));
    const editedAt = Date.now();
    await waitFor(async () => (await admin(newKey)).status === 200, 5000, 50);
    expect((await admin(oldKey)).status).toBe(200); // grace window
    const status = JSON.parse((await sb.run(['--json', 'status'])).stdout);
    expect(status).toMatchObject({ key_matches: true });
    expect(status.daemon_previous_key.fingerprint).toMatch(/^fp_[0-9a-f]{16}$/);
    const signedIn = await dashboardSignIn(newKey);
    expect(signedIn.status).toBe(200);
    expect((await http('GET', `${proxy}/dashboard/api/devices`, { headers: { cookie: signedIn.cookie } })).status).toBe(
      200,
    );
    expect((await sb.run(['device', 'list'])).code).toBe(0); // the CLI reads the new key from the same file

    // After the window the old key is refused, and the refusal says where the accepted key lives.
    await waitFor(async () => (await admin(oldKey)).status === 401, 15000, 100);
    expect(Date.now() - editedAt).toBeGreaterThanOrEqual(7500);
    const refused = await admin(oldKey);
    expect(refused.body.hint).toContain(`[daemon] api_key in ${path}`);
    const control = await http('GET', `${state.control_url}/daemon/status`, {
      headers: { 'x-portcullis-api-key': oldKey },
    });
    expect(control.status).toBe(401);
    expect((await admin(newKey)).status).toBe(200);
    expect((await dashboardSignIn(oldKey)).status).toBe(401);
    expect((await http('GET', `${proxy}/dashboard/api/devices`, { headers: { cookie: signedIn.cookie } })).status).toBe(
      200,
    );

    await waitFor(() => events.some((e) => e.type === 'key_grace_over'), 5000);
    expect(events.find((e) => e.type === 'key_changed')).toMatchObject({
      key_fingerprint: status.daemon_key_fingerprint,
      previous_key_fingerprint: status.daemon_previous_key.fingerprint,
    });
    expect(JSON.stringify(events)).not.toContain(oldKey);
    expect(JSON.stringify(events)).not.toContain(newKey);
    ws.close();
    const log = readFileSync(join(dataDir, 'portcullis.log'), 'utf8');
    expect(log).toContain(
      `admin key changed in ${path}: now ${status.daemon_key_fingerprint}; previous ${status.daemon_previous_key.fingerprint} accepted until`,
    );
    expect(log).toContain(
      `grace window over: previous admin key ${status.daemon_previous_key.fingerprint} is no longer accepted`,
    );
    for (const k of [oldKey, newKey]) {
      expect(log).not.toContain(k);
      expect(sb.output.join('\n')).not.toContain(k);
    }
  }, 120000);

  it('an edit that breaks the file keeps the key in force and logs the line to fix', async () => {
    const path = join(sb.cwd, 'portcullis.toml');
    const dataDir = join(sb.root, 'data');
    const key = apiKeyIn(readFileSync(path, 'utf8'))!;
    const good = readFileSync(path, 'utf8');
    writeFileSync(path, `${good}\n[broken\n`);
    const logPath = join(dataDir, 'portcullis.log');
    await waitFor(() => readFileSync(logPath, 'utf8').includes('is not valid TOML'), 5000, 50);
    expect(readFileSync(logPath, 'utf8')).toMatch(/is not valid TOML: line \d+, column \d+.*keeping the keys in force/);
    const state = readDaemonState(dataDir)!;
    expect(
      (await http('GET', `${state.control_url}/daemon/status`, { headers: { 'x-portcullis-api-key': key } })).status,
    ).toBe(200);
    expect(readFileSync(logPath, 'utf8')).not.toContain(key);
    const cli = await sb.run(['status']);
    expect({ code: cli.code, stderr: cli.stderr }).toMatchObject({
      code: 7,
      stderr: expect.stringContaining(`config file ${path} is not valid TOML`),
    }); // the CLI refuses it too
    writeFileSync(path, good);
    expect((await sb.run(['stop'])).code).toBe(0);
  }, 60000);
});
