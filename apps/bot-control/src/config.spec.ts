import { ConfigError } from '@portcullis/platform';
import { loadBotControlConfig } from './config';

const strong = 'x'.repeat(32);

describe(loadBotControlConfig.name, () => {
  it('defaults to open mode outside production', () => {
    const cfg = loadBotControlConfig({});
    expect(cfg).toMatchObject({ port: 3001, authRequired: false, signatureRequired: false, signatureSkewSeconds: 300 });
  });

  it('turns enforcement on in production unless explicitly off', () => {
    expect(loadBotControlConfig({ NODE_ENV: 'production', BOT_CONTROL_SHARED_SECRET: strong }).authRequired).toBe(true);
    expect(loadBotControlConfig({ NODE_ENV: 'production', BOT_CONTROL_AUTH_REQUIRED: '0' }).authRequired).toBe(false);
  });

  it('refuses to start enforced without a secret, naming the variable', () => {
    expect(() => loadBotControlConfig({ NODE_ENV: 'production' })).toThrow(
      /BOT_CONTROL_SHARED_SECRET: required while authentication is enforced/,
    );
    expect(() => loadBotControlConfig({ BOT_CONTROL_AUTH_REQUIRED: '1' })).toThrow(ConfigError);
    expect(() => loadBotControlConfig({ BOT_CONTROL_SIGNATURE_REQUIRED: '1' })).toThrow(/BOT_CONTROL_SHARED_SECRET/);
  });

  it('refuses secrets under 32 bytes in production, without echoing them', () => {
    const short = 'short-secret-value';
    let err: unknown;
    try {
      loadBotControlConfig({
        NODE_ENV: 'production',
        BOT_CONTROL_SHARED_SECRET: short,
        BOT_CONTROL_SHARED_SECRET_PREV: short,
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toContain('BOT_CONTROL_SHARED_SECRET: must be at least 32 bytes in production');
    expect(msg).toContain('BOT_CONTROL_SHARED_SECRET_PREV: must be at least 32 bytes in production');
    expect(msg).not.toContain(short);
  });

  it('names every bad variable in one message', () => {
    expect(() =>
      loadBotControlConfig({ PORT: 'abc', BOT_CONTROL_AUTH_REQUIRED: 'maybe', BOT_LEAVE_GRACE_MS: '-1' }),
    ).toThrow(/PORT: [\s\S]*BOT_CONTROL_AUTH_REQUIRED: must be 1 or 0[\s\S]*BOT_LEAVE_GRACE_MS/);
  });
});
