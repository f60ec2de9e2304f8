import { ConfigError, loadDeviceAuthConfig } from './config';

describe(loadDeviceAuthConfig.name, () => {
  const base = { DATABASE_URL: 'postgres://127.0.0.1/x' };
  const problems = (env: Record<string, string>, read?: (p: string) => string): string[] => {
    try {
      loadDeviceAuthConfig(env, read);
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
    return [];
  };

  it('defaults to port 3002, a 900 s TTL and 5 attempts a minute', () => {
    expect(loadDeviceAuthConfig(base)).toMatchObject({
      port: 3002,
      tokenTtlSeconds: 900,
      rateLimit: 5,
      rateWindowSeconds: 60,
      migrateOnStart: true,
    });
  });

  it('fails fast on Postgres, keeps attempts 30 days, and limits address failures like devices unless told', () => {
    expect(loadDeviceAuthConfig(base)).toMatchObject({
      dbConnectTimeoutMs: 2000,
      dbQueryTimeoutMs: 5000,
      attemptsRetentionDays: 30,
      addressFailureLimit: 5,
    });
    expect(loadDeviceAuthConfig({ ...base, DEVICE_AUTH_RATE_LIMIT: '7' }).addressFailureLimit).toBe(7);
    expect(loadDeviceAuthConfig({ ...base, DEVICE_AUTH_ADDRESS_FAILURE_LIMIT: '40' }).addressFailureLimit).toBe(40);
    expect(problems({ ...base, DEVICE_AUTH_ADDRESS_FAILURE_LIMIT: '0' })).toEqual([
      expect.stringMatching(/^DEVICE_AUTH_ADDRESS_FAILURE_LIMIT: /),
    ]);
  });

  it('refuses a TTL above one hour and a missing DATABASE_URL', () => {
    expect(problems({ ...base, DEVICE_TOKEN_TTL_SECONDS: '3601' })).toEqual([
      expect.stringMatching(/^DEVICE_TOKEN_TTL_SECONDS: /),
    ]);
    expect(problems({})).toEqual(['DATABASE_URL: required (a postgres:// URL)']);
  });

  it('in production requires the pepper, the admin key and a signing key, long enough, without echoing them', () => {
    const short = 'short-secret-value';
    const p = problems({ ...base, NODE_ENV: 'production', DEVICE_AUTH_PEPPER: short, PORTCULLIS_ADMIN_API_KEY: short });
    expect(p).toEqual([
      'DEVICE_AUTH_SIGNING_KEY: required in production (or DEVICE_AUTH_SIGNING_KEY_FILE)',
      'DEVICE_AUTH_PEPPER: must be at least 32 bytes in production',
      'PORTCULLIS_ADMIN_API_KEY: must be at least 32 bytes in production',
    ]);
    expect(p.join('\n')).not.toContain(short);
    expect(problems({ ...base, NODE_ENV: 'production' })).toEqual(
      expect.arrayContaining([
        'DEVICE_AUTH_PEPPER: required in production',
        'PORTCULLIS_ADMIN_API_KEY: required in production',
      ]),
    );
  });

  it('reads signing keys from files, and names an unreadable file without its content', () => {
    const files: Record<string, string> = { '/k/current.pem': 'PEM-CURRENT', '/k/old.pem': 'PEM-OLD' };
    const read = (p: string) => {
      if (!(p in files)) throw new Error('ENOENT');
      return files[p];
    };
    const cfg = loadDeviceAuthConfig(
      { ...base, DEVICE_AUTH_SIGNING_KEY_FILE: '/k/current.pem', DEVICE_AUTH_PREVIOUS_SIGNING_KEY_FILES: '/k/old.pem' },
      read,
    );
    expect(cfg.signingKeyPem).toBe('PEM-CURRENT');
    expect(cfg.previousKeyPems).toEqual(['PEM-OLD']);
    expect(problems({ ...base, DEVICE_AUTH_SIGNING_KEY_FILE: '/k/missing.pem' }, read)).toEqual([
      'DEVICE_AUTH_SIGNING_KEY_FILE: cannot read the file it names',
    ]);
  });

  it('needs an end time for a previous admin key', () => {
    expect(problems({ ...base, PORTCULLIS_ADMIN_API_KEY: 'a', PORTCULLIS_ADMIN_API_KEY_PREV: 'b' })).toEqual([
      'PORTCULLIS_ADMIN_API_KEY_PREV_UNTIL: required with PORTCULLIS_ADMIN_API_KEY_PREV',
    ]);
    const cfg = loadDeviceAuthConfig({
      ...base,
      PORTCULLIS_ADMIN_API_KEY_PREV: 'b',
      PORTCULLIS_ADMIN_API_KEY_PREV_UNTIL: '2030-01-01T00:00:00Z',
    });
    expect(cfg.adminKeyPrevious).toEqual({ key: 'b', validUntil: new Date('2030-01-01T00:00:00Z') });
  });
});
