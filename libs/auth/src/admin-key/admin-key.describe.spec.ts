import { ADMIN_UNAUTHORIZED_BODY, adminUnauthorizedBody } from './admin-key.guard';
import { AdminKeySet, AdminKeySource, StaticAdminKeySource } from './admin-key.source';

class FileSource extends AdminKeySource {
  keys(): AdminKeySet {
    return { current: 'k'.repeat(64) };
  }

  override describe(): string {
    return '[daemon] api_key in /etc/portcullis.toml';
  }
}

describe(adminUnauthorizedBody.name, () => {
  it('is the fixed body for a source that does not describe itself', () => {
    expect(adminUnauthorizedBody(new StaticAdminKeySource({ current: 'x' }))).toBe(ADMIN_UNAUTHORIZED_BODY);
  });

  it('names where the key lives for a described source, never the key', () => {
    const body = adminUnauthorizedBody(new FileSource());
    expect(body).toEqual({
      detail: 'unauthorized',
      hint: 'X-Portcullis-API-Key missing or not accepted; this server reads its key from [daemon] api_key in /etc/portcullis.toml',
    });
    expect(JSON.stringify(body)).not.toContain('k'.repeat(64));
  });
});
