import { ConfigError, loadRoomGatewayConfig } from '../config';

describe('room-gateway signaling config', () => {
  it('is off without DATABASE_URL and on with it', () => {
    expect(loadRoomGatewayConfig({}).signaling).toBeUndefined();
    const on = loadRoomGatewayConfig({ DATABASE_URL: 'postgres://x@h/db', DEVICE_AUTH_URL: 'http://auth:3002/' });
    expect(on.signaling).toMatchObject({
      databaseUrl: 'postgres://x@h/db',
      deviceAuthUrl: 'http://auth:3002',
      migrateOnStart: true,
      roomTokenKeyGenerated: true,
    });
  });

  it('refuses production without a long enough room-token key, naming the variable and not the value', () => {
    const base = { NODE_ENV: 'production', ROOM_GATEWAY_KEY_PEPPER: 'p'.repeat(32), DATABASE_URL: 'postgres://x@h/db' };
    expect(() => loadRoomGatewayConfig(base)).toThrow(/ROOM_TOKEN_SIGNING_KEY: required in production/);
    let err: unknown;
    try {
      loadRoomGatewayConfig({ ...base, ROOM_TOKEN_SIGNING_KEY: 'short-key-value' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(String(err)).toContain('ROOM_TOKEN_SIGNING_KEY: must be at least 32 bytes');
    expect(String(err)).not.toContain('short-key-value');
    expect(
      loadRoomGatewayConfig({ ...base, ROOM_TOKEN_SIGNING_KEY: 'r'.repeat(32) }).signaling?.roomTokenKeyGenerated,
    ).toBe(false);
  });
});
