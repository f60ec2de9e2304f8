import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  credentialsFile,
  resolveRoomSecret,
  roomSecretEnvName,
  roomSecretFile,
  saveRoomSecret,
} from './secret-resolver';

describe(resolveRoomSecret.name, () => {
  let home: string;
  const room = 'abc-123-def';
  beforeEach(() => (home = mkdtempSync(join(tmpdir(), 'pc-psk-'))));
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  const writeAll = () => {
    mkdirSync(join(home, '.portcullis', 'secrets'), { recursive: true });
    writeFileSync(roomSecretFile(room, home), 'from-file\n', { mode: 0o600 });
    writeFileSync(credentialsFile(home), JSON.stringify({ room_secrets: { [room]: 'from-credentials' } }), {
      mode: 0o600,
    });
  };

  it('names the variable PORTCULLIS_ROOM_SECRET_<ROOM ID, upper-cased, non-alphanumerics as _>', () => {
    expect(roomSecretEnvName('abc-123-def')).toBe('PORTCULLIS_ROOM_SECRET_ABC_123_DEF');
    expect(roomSecretEnvName('production.room')).toBe('PORTCULLIS_ROOM_SECRET_PRODUCTION_ROOM');
  });

  it('takes each source before the ones after it: flag > env > file > credentials > none', () => {
    writeAll();
    const env = { [roomSecretEnvName(room)]: 'from-env' };
    expect(resolveRoomSecret({ roomId: room, flag: 'from-flag', env, home })).toMatchObject({
      secret: 'from-flag',
      source: 'flag',
    });
    expect(resolveRoomSecret({ roomId: room, env, home })).toMatchObject({ secret: 'from-env', source: 'env' });
    expect(resolveRoomSecret({ roomId: room, env: {}, home })).toMatchObject({ secret: 'from-file', source: 'file' });
    rmSync(roomSecretFile(room, home));
    expect(resolveRoomSecret({ roomId: room, env: {}, home })).toMatchObject({
      secret: 'from-credentials',
      source: 'credentials',
    });
    rmSync(credentialsFile(home));
    expect(resolveRoomSecret({ roomId: room, env: {}, home })).toEqual({ source: 'none', warnings: [] });
  });

  it('skips empty values and trims trailing whitespace', () => {
    writeAll();
    writeFileSync(roomSecretFile(room, home), '  \n');
    const r = resolveRoomSecret({ roomId: room, flag: '', env: { [roomSecretEnvName(room)]: '' }, home });
    expect(r).toMatchObject({ secret: 'from-credentials', source: 'credentials' });
    expect(resolveRoomSecret({ roomId: room, env: { [roomSecretEnvName(room)]: 'abc \t\r\n' }, home }).secret).toBe(
      'abc',
    );
  });

  it('warns when the secret file is readable by others, without the value', () => {
    writeAll();
    chmodSync(roomSecretFile(room, home), 0o644);
    const r = resolveRoomSecret({ roomId: room, env: {}, home });
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toContain('readable by other users');
    expect(r.warnings[0]).not.toContain('from-file');
    chmodSync(roomSecretFile(room, home), 0o600);
    expect(resolveRoomSecret({ roomId: room, env: {}, home }).warnings).toEqual([]);
  });

  it('refuses room ids that would escape the secrets directory', () => {
    expect(() => resolveRoomSecret({ roomId: '../credentials.json', env: {}, home })).toThrow('invalid room id');
  });

  it('saves into credentials.json at 0600, keeping other keys', () => {
    mkdirSync(join(home, '.portcullis'), { recursive: true });
    writeFileSync(credentialsFile(home), JSON.stringify({ jwt: 'keep', room_secrets: { other: 'x' } }));
    saveRoomSecret(room, 'new-secret', home);
    expect(JSON.parse(readFileSync(credentialsFile(home), 'utf8'))).toEqual({
      jwt: 'keep',
      room_secrets: { other: 'x', [room]: 'new-secret' },
    });
    expect(statSync(credentialsFile(home)).mode & 0o777).toBe(0o600);
  });
});
