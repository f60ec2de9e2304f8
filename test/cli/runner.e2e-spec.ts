import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { http, processAlive, waitFor } from '../support/http';
import { ROOT, Sandbox, freePortsToml, writeText } from '../support/cli';

/**
 * The README on a clean machine: `npm start` (= the command below, after the build)
 * with no config file, no NATS, no Postgres. Only the ports are moved to free ones
 * so this file can run beside others; everything else is the embedded default.
 */
describe('README: npm start on embedded defaults', () => {
  const sb = new Sandbox();
  afterAll(async () => {
    await sb.cleanup();
  });

  it('brings every app up healthy, `portcullis status` reports them, and a device registered through the CLI gets a token', async () => {
    const npmStart = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.start as string;
    expect(npmStart).toBe('node dist/apps/cli/src/main.js start --foreground');
    writeText(sb.userConfig, freePortsToml());

    const d = sb.spawnDaemon([join(ROOT, 'dist/apps/cli/src/main.js'), 'start', '--foreground'], { cwd: sb.cwd });
    await waitFor(() => d.child.exitCode !== null || d.out().includes('portcullis is running'), 90000, 100);
    expect({ exitCode: d.child.exitCode, output: d.child.exitCode === null ? '' : d.out().slice(-800) }).toEqual({
      exitCode: null,
      output: '',
    });
    expect(d.out()).toContain(`Generated [daemon] api_key`);
    expect(d.out()).toContain(`config file  ${sb.userConfig}`);

    const status = await sb.run(['--json', 'status']);
    expect(status.code).toBe(0);
    const s = JSON.parse(status.stdout);
    expect(s).toMatchObject({ running: true, key_matches: true, config_file: sb.userConfig, config_origin: 'search' });
    const names = s.apps.map((a: { app: string }) => a.app);
    expect(names).toEqual(expect.arrayContaining(['device-auth', 'bot-control', 'room-gateway', 'interface-proxy']));
    for (const a of s.apps) expect(a.health).toBe('ready');
    // Embedded engines: in-process messaging and PGlite.
    const deviceAuth = s.apps.find((a: { app: string }) => a.app === 'device-auth').url;
    const ready = await http('GET', `${deviceAuth}/health/ready`);
    expect(ready.body.info.nats.transport).toBe('in-process');
    expect(ready.body.info.postgres.status).toBe('up');

    const reg = await sb.run(['--json', 'device', 'register', '--customer', 'acme', '--name', 'lobby']);
    expect(reg.code).toBe(0);
    const device = JSON.parse(reg.stdout);
    const auth = await http('POST', `${deviceAuth}/device/auth`, {
      json: { device_id: device.device_id, device_secret: device.device_secret },
    });
    expect(auth.status).toBe(200);
    expect(auth.body).toMatchObject({ token_type: 'Bearer', customer_id: 'acme' });
    expect(auth.body.access_token.split('.')).toHaveLength(3);

    const shown = await sb.run(['device', 'show', device.device_id]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(device.device_id);
    expect(shown.stdout).not.toContain(device.device_secret);

    // The rest of the device lifecycle through the CLI.
    const authAs = (secret: string) =>
      http('POST', `${deviceAuth}/device/auth`, { json: { device_id: device.device_id, device_secret: secret } });
    const rotated = await sb.run([
      '--json',
      'device',
      'rotate-secret',
      device.device_id,
      '--secret-file',
      join(sb.root, 'new.secret'),
    ]);
    expect(rotated.code).toBe(0);
    const newSecret = readFileSync(join(sb.root, 'new.secret'), 'utf8').trim();
    expect(rotated.stdout).not.toContain(newSecret);
    expect((await authAs(newSecret)).status).toBe(200);
    expect((await authAs(device.device_secret)).status).toBe(401); // no overlap asked for
    expect((await sb.run(['device', 'revoke', device.device_id])).code).toBe(0);
    expect((await authAs(newSecret)).status).toBe(401);
    expect((await sb.run(['device', 'reactivate', device.device_id])).code).toBe(0);
    expect((await authAs(newSecret)).status).toBe(200);
    expect((await sb.run(['device', 'show', 'no-such-device'])).code).toBe(4);
    expect((await sb.run(['device', 'register', '--customer', ''])).code).toBe(5);

    // Every app of the one process audits as itself: a refused sign-in is device-auth's, a
    // room request without a key is room-gateway's.
    const roomGateway = s.apps.find((a: { app: string }) => a.app === 'room-gateway').url;
    expect((await http('POST', `${roomGateway}/api/rooms/create`, { json: { profile: 'conversation' } })).status).toBe(
      401,
    );
    const auditLines = () =>
      d
        .out()
        .split('\n')
        .filter((l) => l.includes('"context":"Audit"'))
        .map((l) => JSON.parse(l) as { app: string; audit: { app: string; action: string; decision: string } });
    await waitFor(() => auditLines().some((l) => l.audit.action === 'POST /api/rooms/create'), 10000);
    const audited = auditLines();
    expect(audited.find((l) => l.audit.action === 'device.auth' && l.audit.decision === 'deny')).toMatchObject({
      app: 'device-auth',
      audit: { app: 'device-auth' },
    });
    expect(audited.find((l) => l.audit.action === 'POST /api/rooms/create')).toMatchObject({
      app: 'room-gateway',
      audit: { app: 'room-gateway', decision: 'deny' },
    });
    for (const l of audited) expect(l.audit.app).toBe(l.app);

    // Ctrl-C (SIGINT) stops it cleanly.
    d.child.kill('SIGINT');
    await waitFor(() => !processAlive(d.child.pid as number), 20000);
    expect(d.child.exitCode).toBe(0);
    const key = /api_key = "([^"]+)"/.exec(readFileSync(sb.userConfig, 'utf8'))![1];
    expect(sb.output.join('\n')).not.toContain(key);
    expect((await sb.run(['status'])).code).toBe(3);
  }, 150000);
});
