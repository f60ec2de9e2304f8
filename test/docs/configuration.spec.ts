import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIGURATION_DOC, renderConfigurationDoc } from '../../scripts/config-docs';

describe('docs/configuration.md', () => {
  it('matches the environment schemas (regenerate with npm run docs:config)', () => {
    const onDisk = readFileSync(join(__dirname, '../..', CONFIGURATION_DOC), 'utf8');
    const fresh = renderConfigurationDoc();
    if (onDisk !== fresh) {
      throw new Error(`${CONFIGURATION_DOC} is out of date with apps/*/src/config.ts: run npm run docs:config`);
    }
  });

  it('lists every variable each app reads, with its meaning', () => {
    const doc = renderConfigurationDoc();
    for (const name of [
      'NATS_URL',
      'BOT_CONTROL_SHARED_SECRET',
      'DASHBOARD_SESSION_TTL_SECONDS',
      'DEVICE_TOKEN_TTL_SECONDS',
      'ROOM_TOKEN_SIGNING_KEY',
    ]) {
      expect(doc).toContain(`| \`${name}\` |`);
    }
    expect(doc).toMatch(/\| `BOT_CONTROL_SHARED_SECRET` \| unset \| \*\*yes\*\* \|/);
    expect(doc).toMatch(/\| `DEVICE_TOKEN_TTL_SECONDS` \| `900` \| no \| integer 60–3600 \|/);
  });
});
