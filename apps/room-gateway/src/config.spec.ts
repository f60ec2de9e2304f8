import { ConfigError } from '@portcullis/platform';
import { loadRoomGatewayConfig } from './config';

describe(loadRoomGatewayConfig.name, () => {
  it('has working defaults for development, with a per-process pepper', () => {
    const a = loadRoomGatewayConfig({});
    const b = loadRoomGatewayConfig({});
    expect(a).toMatchObject({
      port: 3003,
      dailyBaseUrl: 'https://api.daily.co/v1',
      livekitBaseUrl: undefined,
      rateLimit: { windowMs: 60_000, perKey: 60, perIp: 120 },
    });
    expect(a.keyPepper).toHaveLength(64);
    expect(a.keyPepper).not.toBe(b.keyPepper);
  });

  it('requires a long pepper in production, naming the variable without echoing it', () => {
    expect(() => loadRoomGatewayConfig({ NODE_ENV: 'production' })).toThrow(
      /ROOM_GATEWAY_KEY_PEPPER: required in production/,
    );
    let err: unknown;
    try {
      loadRoomGatewayConfig({
        NODE_ENV: 'production',
        ROOM_GATEWAY_KEY_PEPPER: 'short-pepper-value',
        ROOM_GATEWAY_RATE_LIMIT_PER_KEY: 'many',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual(['ROOM_GATEWAY_RATE_LIMIT_PER_KEY: must be a number']);
    expect(() =>
      loadRoomGatewayConfig({ NODE_ENV: 'production', ROOM_GATEWAY_KEY_PEPPER: 'short-pepper-value' }),
    ).toThrow(/ROOM_GATEWAY_KEY_PEPPER: must be at least 32 bytes in production/);
    expect(
      String(
        (() => {
          try {
            loadRoomGatewayConfig({ NODE_ENV: 'production', ROOM_GATEWAY_KEY_PEPPER: 'short-pepper-value' });
          } catch (e) {
            return e;
          }
        })(),
      ),
    ).not.toContain('short-pepper-value');
  });

  it('refuses a LiveKit URL that is not http(s) or ws(s)', () => {
    expect(() => loadRoomGatewayConfig({ LIVEKIT_API_BASE_URL: 'ftp://x' })).toThrow(/LIVEKIT_API_BASE_URL/);
    expect(loadRoomGatewayConfig({ LIVEKIT_API_BASE_URL: 'wss://p.livekit.cloud' }).livekitBaseUrl).toBe(
      'wss://p.livekit.cloud',
    );
  });

  it('never requires the admin key, and refuses a short one in production without echoing it', () => {
    expect(loadRoomGatewayConfig({}).adminKey).toBeUndefined();
    expect(loadRoomGatewayConfig({ PORTCULLIS_ADMIN_API_KEY: 'dev-key' }).adminKey).toBe('dev-key');
    const prod = { NODE_ENV: 'production', ROOM_GATEWAY_KEY_PEPPER: 'p'.repeat(32) };
    expect(loadRoomGatewayConfig(prod).adminKey).toBeUndefined();
    let err: unknown;
    try {
      loadRoomGatewayConfig({ ...prod, PORTCULLIS_ADMIN_API_KEY: 'short-admin-key' });
    } catch (e) {
      err = e;
    }
    expect((err as ConfigError).problems).toEqual([
      'PORTCULLIS_ADMIN_API_KEY: must be at least 32 bytes in production',
    ]);
    expect(String(err)).not.toContain('short-admin-key');
  });
});
