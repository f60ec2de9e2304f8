import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { ConfigFileError, permissionWarning, readConfigFile, setStringValue, writeFileAtomic } from './config-file';
import { locateConfig } from './paths';
import { toSuiteConfig } from './suite-config';

describe('config file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-cfg-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe(setStringValue.name, () => {
    it('replaces a value in place and keeps every other line, comments included', () => {
      const path = join(dir, 'p.toml');
      writeFileSync(
        path,
        '# top\n[daemon]\n  api_key = "old"  # the key\nipc_port = 3010\n\n[suite]\nlog_level = "warn"\n',
      );
      const next = setStringValue(readConfigFile(path), 'daemon', 'api_key', 'x'.repeat(64));
      expect(next).toBe(
        `# top\n[daemon]\n  api_key = "${'x'.repeat(64)}"\nipc_port = 3010\n\n[suite]\nlog_level = "warn"\n`,
      );
    });

    it('adds the key to an existing section, or appends the section', () => {
      const path = join(dir, 'p.toml');
      writeFileSync(path, '[daemon] # mine\nipc_port = 1\n[suite]\nlog_level = "warn"\n');
      const added = setStringValue(readConfigFile(path), 'daemon', 'api_key', 'k');
      expect(parse(added)).toEqual({ daemon: { ipc_port: 1, api_key: 'k' }, suite: { log_level: 'warn' } });
      expect(added).toContain('[daemon] # mine\napi_key = "k"\n');
      writeFileSync(path, '[suite]\nlog_level = "warn"');
      expect(parse(setStringValue(readConfigFile(path), 'bot_control', 'shared_secret', 's'))).toEqual({
        suite: { log_level: 'warn' },
        bot_control: { shared_secret: 's' },
      });
    });

    it('falls back to re-serialising when a line edit cannot express the change (dotted keys), keeping every setting', () => {
      const path = join(dir, 'p.toml');
      writeFileSync(path, 'daemon.ipc_port = 5\nsuite.log_level = "warn"\n');
      expect(parse(setStringValue(readConfigFile(path), 'daemon', 'api_key', 'k'))).toEqual({
        daemon: { ipc_port: 5, api_key: 'k' },
        suite: { log_level: 'warn' },
      });
    });
  });

  describe(writeFileAtomic.name, () => {
    it('a reader in another process never sees a partial file', async () => {
      const path = join(dir, 'portcullis.toml');
      const body = (i: number) => `[daemon]\napi_key = "${String(i).padStart(64, '0')}"\n${'# padding\n'.repeat(2000)}`;
      writeFileAtomic(path, body(0));
      // A separate process reads as fast as it can while this one writes.
      const reader = spawn(process.execPath, [
        '-e',
        `
        const fs = require('fs'); let reads = 0, bad = 0; const end = Date.now() + 1500;
        while (Date.now() < end) { try { const t = fs.readFileSync(${JSON.stringify(path)}, 'utf8'); reads++; if (!/^\\[daemon\\]\\napi_key = "\\d{64}"\\n/.test(t) || t.length !== ${body(0).length}) bad++; } catch (e) { bad++; } }
        process.stdout.write(JSON.stringify({ reads, bad }));`,
      ]);
      let out = '';
      reader.stdout.on('data', (d) => (out += d));
      const done = new Promise((r) => reader.on('exit', r));
      let writes = 0;
      const until = Date.now() + 1200;
      while (Date.now() < until) {
        writeFileAtomic(path, body(++writes));
        await new Promise((r) => setImmediate(r));
      }
      await done;
      const { reads, bad } = JSON.parse(out) as { reads: number; bad: number };
      // Enough overlap to matter even on a loaded machine.
      expect(writes).toBeGreaterThan(10);
      expect(reads).toBeGreaterThan(10);
      expect(bad).toBe(0);
      expect(readdirSync(dir)).toEqual(['portcullis.toml']);
    });

    it('leaves the file at mode 0600 even when it was more open', () => {
      const path = join(dir, 'p.toml');
      writeFileSync(path, 'a = 1\n', { mode: 0o644 });
      writeFileAtomic(path, 'a = 2\n');
      expect(statSync(path).mode & 0o777).toBe(0o600);
    });
  });

  describe(readConfigFile.name, () => {
    it('reports the line and column of a syntax error without echoing the file', () => {
      const path = join(dir, 'p.toml');
      writeFileSync(path, '[daemon]\napi_key = "supersecretvalue-supersecretvalue"\nipc_port = = 3\n');
      let err: ConfigFileError | undefined;
      try {
        readConfigFile(path);
      } catch (e) {
        err = e as ConfigFileError;
      }
      expect(err).toBeInstanceOf(ConfigFileError);
      expect(err!.line).toBe(3);
      expect(err!.message).toContain(`config file ${path} is not valid TOML: line 3`);
      expect(err!.message).not.toContain('supersecretvalue');
    });

    it('a missing file is an empty config', () => {
      expect(readConfigFile(join(dir, 'none.toml'))).toMatchObject({ exists: false, data: {} });
    });
  });

  it('warns about a group- or world-readable file only when it holds a secret', () => {
    const path = join(dir, 'p.toml');
    writeFileSync(path, '[daemon]\napi_key = "k"\n', { mode: 0o640 });
    expect(permissionWarning(readConfigFile(path), true)).toBe(
      `warning: ${path} holds the admin API key but is readable by its group (mode 0640). Fix: chmod 600 ${path}`,
    );
    expect(permissionWarning(readConfigFile(path), false)).toBeUndefined();
  });

  it('[daemon] host/port are accepted as aliases of ipc_host/ipc_port', () => {
    const path = join(dir, 'p.toml');
    writeFileSync(path, '[daemon]\nhost = "0.0.0.0"\nport = 8080\n');
    expect(toSuiteConfig(readConfigFile(path))).toMatchObject({ ipcHost: '0.0.0.0', ipcPort: 8080 });
  });

  it('locateConfig: --config, then PORTCULLIS_CONFIG, then the search order, then the user config dir', () => {
    const home = join(dir, 'home');
    const cwd = join(dir, 'cwd');
    expect(locateConfig({ cwd, home, env: {} })).toEqual({
      path: join(home, '.config/portcullis/portcullis.toml'),
      origin: 'default',
      exists: false,
    });
    expect(locateConfig({ cwd, home, env: { PORTCULLIS_CONFIG: '~/x.toml' } })).toMatchObject({
      path: join(home, 'x.toml'),
      origin: 'env',
    });
    expect(locateConfig({ cwd, home, env: { PORTCULLIS_CONFIG: '/a.toml' }, flag: 'b.toml' })).toMatchObject({
      path: join(cwd, 'b.toml'),
      origin: 'flag',
    });
  });
});
