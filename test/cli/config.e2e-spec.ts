import { chmodSync, closeSync, mkdirSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, apiKeyIn, freePortsToml, writeText } from '../support/cli';

/** The config file as every process finds it: search order, overrides, bad files. Real CLI binary, no daemon needed. */
describe('portcullis config file (CLI subprocess)', () => {
  let sb: Sandbox;
  beforeEach(() => {
    sb = new Sandbox();
  });
  afterEach(async () => {
    await sb.cleanup();
  });

  const statusJson = async (args: string[] = [], env: Record<string, string | undefined> = {}, cwd?: string) => {
    const r = await sb.run(['--json', ...args, 'status'], { env, cwd });
    expect(r.code).toBe(3); // nothing running: the report still says which file was read
    return JSON.parse(r.stdout) as { config_file: string; config_origin: string; running: boolean };
  };

  it('finds ./portcullis.toml, then ~/.config/portcullis/portcullis.toml, then ~/.portcullis.toml', async () => {
    const local = join(sb.cwd, 'portcullis.toml');
    const user = sb.userConfig;
    const dot = join(sb.home, '.portcullis.toml');
    for (const p of [local, user, dot]) writeText(p, freePortsToml());

    expect(await statusJson()).toMatchObject({ config_file: local, config_origin: 'search', running: false });
    chmodSync(local, 0o600);
    writeText(local, '', 0o600);
    require('node:fs').unlinkSync(local);
    expect((await statusJson()).config_file).toBe(user);
    require('node:fs').unlinkSync(user);
    expect((await statusJson()).config_file).toBe(dot);
    require('node:fs').unlinkSync(dot);
    expect(await statusJson()).toMatchObject({ config_file: user, config_origin: 'default' });
  });

  it('--config beats PORTCULLIS_CONFIG, which beats the search; relative paths are from the working directory', async () => {
    writeText(join(sb.cwd, 'portcullis.toml'), freePortsToml());
    const viaEnv = join(sb.root, 'env.toml');
    const viaFlag = join(sb.cwd, 'sub', 'flag.toml');
    writeText(viaEnv, freePortsToml());
    writeText(viaFlag, freePortsToml());

    expect(await statusJson([], { PORTCULLIS_CONFIG: viaEnv })).toMatchObject({
      config_file: viaEnv,
      config_origin: 'env',
    });
    expect(await statusJson(['--config', 'sub/flag.toml'], { PORTCULLIS_CONFIG: viaEnv })).toMatchObject({
      config_file: viaFlag,
      config_origin: 'flag',
    });
  });

  it('a corrupt file: a clear error naming the file and line, exit 7, the file untouched and no key echoed', async () => {
    const path = join(sb.cwd, 'portcullis.toml');
    const key = 'k'.repeat(64);
    const text = `# mine\n[daemon]\napi_key = "${key}"\nipc_port = 0\n[suite\nlog_level = "info"\n`;
    writeText(path, text);
    const before = statSync(path);

    const r = await sb.run(['start']);
    expect(r.code).toBe(7);
    expect(r.stderr).toContain(path);
    expect(r.stderr).toMatch(/line 5, column \d+/);
    expect(r.stderr).toContain('left untouched');
    expect(r.stderr + r.stdout).not.toContain(key);
    expect(readFileSync(path, 'utf8')).toBe(text);
    expect(statSync(path).ino).toBe(before.ino);
    expect(readdirSync(sb.cwd)).toEqual(['portcullis.toml']);
    for (const cmd of [['status'], ['device', 'list'], ['stop']]) {
      expect((await sb.run(cmd)).code).toBe(7);
    }
  });

  it('a bad setting names the setting and its line', async () => {
    const path = join(sb.cwd, 'portcullis.toml');
    writeText(path, '[daemon]\nipc_port = 0\n\n[ports]\nbot_control = "x"\n');
    const r = await sb.run(['status']);
    expect(r.code).toBe(7);
    expect(r.stderr).toContain(`config file ${path}`);
    expect(r.stderr).toContain('line 5: [ports] bot_control: must be a port number');
  });

  it('an unreadable config path gives a clear error, exit 7', async () => {
    const path = join(sb.root, 'dir.toml');
    mkdirSync(path);
    const r = await sb.run(['--config', path, 'start']);
    expect(r.code).toBe(7);
    expect(r.stderr).toContain(`cannot read config file ${path}: it is a directory`);
  });

  it('warns, naming the fix, when a file holding a key is readable by others', async () => {
    const path = join(sb.cwd, 'portcullis.toml');
    writeText(
      path,
      freePortsToml(`[suite]\nlog_level = "warn"\n`).replace('[daemon]\n', `[daemon]\napi_key = "${'a'.repeat(64)}"\n`),
      0o644,
    );
    chmodSync(path, 0o644);
    const r = await sb.run(['status']);
    expect(r.stderr).toContain(`Fix: chmod 600 ${path}`);
    expect(r.stderr).not.toContain('a'.repeat(64));

    chmodSync(path, 0o600);
    expect((await sb.run(['status'])).stderr).not.toContain('chmod 600');
  });

  it('start saves a generated key atomically: mode 0600, comments and other settings kept, no temp file left', async () => {
    const path = join(sb.cwd, 'portcullis.toml');
    const original = `# operator notes stay\n[suite]\napps = []   # no apps: only the daemon itself\nlog_level = "warn"\n\n[daemon]\n# the port\nipc_port = 0\n`;
    writeText(path, original, 0o644);
    chmodSync(path, 0o644);
    const ino = statSync(path).ino;
    // Held open so the old inode stays allocated: a later write's temp file cannot reuse its number.
    const held = openSync(path, 'r');

    const r = await sb.run(['start']);
    expect(r.code).toBe(0);
    const text = readFileSync(path, 'utf8');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(path).ino).not.toBe(ino); // replaced by rename, never rewritten in place
    expect(readFileSync(held, 'utf8')).toBe(original); // a reader of the old file never sees a half-written one
    closeSync(held);
    expect(text).toContain('# operator notes stay');
    expect(text).toContain('apps = []   # no apps: only the daemon itself');
    expect(text).toContain('# the port\nipc_port = 0');
    const key = apiKeyIn(text);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(readdirSync(sb.cwd)).toEqual(['portcullis.toml']);
    expect(r.stdout + r.stderr).not.toContain(key);
    expect(r.stderr).toMatch(/Generated \[daemon\] api_key \(fp_[0-9a-f]{16}\) and saved it to /);

    expect((await sb.run(['stop'])).code).toBe(0);
  });
});
